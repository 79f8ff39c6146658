"""``GET /v1/recommendations`` and the ``train`` / ``recommend`` commands."""

from __future__ import annotations

import json
import threading
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app, console
from tests.conftest import basic

URL = "/v1/recommendations"


def test_placements_over_http(
    client: TestClient, keys: dict[str, str], trained: Shopkeeper
) -> None:
    headers = basic(keys["read"])
    response = client.get(URL, params={"placement": "cart", "cart": "teapot, mug"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["strategy"] == "cart_complements"
    assert body["items"]
    assert {"sku", "title", "score", "reason"} <= set(body["items"][0])
    assert not {"teapot", "mug"} & {item["sku"] for item in body["items"]}
    params: dict[str, str | int] = {
        "placement": "recently_viewed",
        "anonymousId": "anon-google",
        "k": 1,
    }
    response = client.get(URL, params=params, headers=headers)
    assert [item["sku"] for item in response.json()["items"]] == ["kettle"]


def test_bad_parameters_are_422_naming_the_field(
    client: TestClient, keys: dict[str, str], trained: Shopkeeper
) -> None:
    headers = basic(keys["read"])
    unknown = client.get(URL, params={"placement": "nope"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == {"field": "placement"}
    missing = client.get(URL, params={"placement": "similar"}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["detail"] == {"field": "product"}
    too_many = client.get(URL, params={"placement": "trending", "k": 1000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["field"] == "query.k"
    assert client.get(URL, params={"placement": "trending"}).status_code == 401


@pytest.fixture
def cli(store: Shopkeeper, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(store.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", store.settings.resolved_database_url)
    monkeypatch.setattr(console, "width", 200)
    _load()
    return CliRunner()


def test_train_then_recommend_from_the_command_line(cli: CliRunner) -> None:
    trained = cli.invoke(app, ["train"])
    assert trained.exit_code == 0, trained.output
    assert "is live" in trained.output
    shown = cli.invoke(app, ["recommend", "bought_together", "--product", "teapot", "-k", "2"])
    assert shown.exit_code == 0, shown.output
    assert "association" in shown.output
    assert "often bought with Glass Teapot" in shown.output
    as_json = cli.invoke(app, ["recommend", "buy_again", "--customer", "u-tea-1", "--json"])
    assert json.loads(as_json.output)["items"][0]["sku"] == "tea-green"


def test_train_every_retrains_on_schedule(
    cli: CliRunner, store: Shopkeeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    real_sleep, caller = time.sleep, threading.get_ident()

    def sleep(seconds: float) -> None:
        # ``time.sleep`` is patched for the whole process: other threads of the worker (a
        # projector, a driver's poller) keep their own sleeps
        if threading.get_ident() != caller:
            real_sleep(seconds)
            return
        waits.append(seconds)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("shopkeeper.recommendations.commands.time.sleep", sleep)
    result = cli.invoke(app, ["train", "--every", "5"])
    assert waits == [300.0, 300.0]
    assert result.output.count("is live") == 2
    assert store.recommendations.model().version.startswith("v000002-")


def test_the_schema_lists_the_query_parameters(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/recommendations"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert list(parameters) == ["placement", "customer", "anonymousId", "product", "cart", "k"]
    assert parameters["placement"]["required"] is True
    assert parameters["k"]["schema"] == {
        "default": 10,
        "maximum": 100,
        "minimum": 1,
        "type": "integer",
    }
