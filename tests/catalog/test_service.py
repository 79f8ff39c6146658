"""CatalogService.upsert on SQLite and PostgreSQL: partial vs full, idempotency, batches."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from shopkeeper.application import Shopkeeper
from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.catalog.service import UpsertResult
from shopkeeper.clock import FixedClock
from shopkeeper.models import Product


def upsert(shop: Shopkeeper, products: list[ProductIn], *, partial: bool) -> UpsertResult:
    with shop.db.transaction() as session:
        return shop.catalog.upsert(session, products, partial=partial)


def stored(shop: Shopkeeper, sku: str) -> Product:
    with shop.db.transaction() as session:
        product = session.get(Product, sku)
        assert product is not None
        return product


def count(shop: Shopkeeper) -> int:
    with shop.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Product)) or 0)


def dress(**overrides: object) -> ProductIn:
    fields: dict[str, object] = {
        "sku": "D-1",
        "title": "Linen dress",
        "category_path": "Women > Dresses",
        "brand": "Acme",
        "price": Decimal("49.90"),
        "currency": "eur",
        "attributes": {"colour": "blue"},
    }
    fields.update(overrides)
    return ProductIn.model_validate(fields)


def test_create_normalises_and_defaults(shop: Shopkeeper) -> None:
    assert upsert(shop, [dress()], partial=False) == UpsertResult(created=1)
    product = stored(shop, "D-1")
    assert product.category_path == "women/dresses"
    assert product.currency == "EUR"
    assert product.price == Decimal("49.90")
    assert product.in_stock is True
    assert product.is_product is True
    assert product.price_tier is None
    assert product.attributes == {"colour": "blue"}


def test_same_input_twice_is_unchanged(shop: Shopkeeper, clock: FixedClock) -> None:
    batch = [dress(), dress(sku="D-2", price=Decimal("12.345678")), ProductIn(sku="X")]
    assert upsert(shop, batch, partial=False) == UpsertResult(created=3)
    before = stored(shop, "D-2").updated_at
    clock.advance(minutes=5)
    assert upsert(shop, batch, partial=False) == UpsertResult(unchanged=3)
    assert upsert(shop, batch, partial=True) == UpsertResult(unchanged=3)
    assert count(shop) == 3
    assert stored(shop, "D-2").updated_at == before


def test_partial_only_overwrites_given_fields(shop: Shopkeeper, clock: FixedClock) -> None:
    upsert(shop, [dress(in_stock=False, price_tier="mid")], partial=False)
    clock.advance(minutes=1)
    event = ProductIn(sku="D-1", price=Decimal("39.90"), category_path="Women/Dresses")
    assert upsert(shop, [event], partial=True) == UpsertResult(updated=1)
    product = stored(shop, "D-1")
    assert product.price == Decimal("39.90")
    assert product.title == "Linen dress"
    assert product.brand == "Acme"
    assert product.in_stock is False  # not given: never flipped by an event
    assert product.price_tier == "mid"
    assert product.attributes == {"colour": "blue"}
    assert product.updated_at == clock.now()
    assert product.created_at < clock.now()


def test_partial_sets_stock_when_given(shop: Shopkeeper) -> None:
    upsert(shop, [dress()], partial=False)
    assert upsert(shop, [ProductIn(sku="D-1", in_stock=False)], partial=True).updated == 1
    assert stored(shop, "D-1").in_stock is False


def test_full_replaces_the_product(shop: Shopkeeper) -> None:
    upsert(shop, [dress(in_stock=False, price_tier="premium")], partial=False)
    assert upsert(shop, [ProductIn(sku="D-1", title="Renamed")], partial=False).updated == 1
    product = stored(shop, "D-1")
    assert product.title == "Renamed"
    assert product.brand is None
    assert product.price is None
    assert product.category_path is None
    assert product.price_tier is None
    assert product.in_stock is True
    assert product.attributes == {}


def test_duplicate_skus_in_one_batch(shop: Shopkeeper) -> None:
    full = [dress(title="first"), dress(title="second", brand=None)]
    assert upsert(shop, full, partial=False) == UpsertResult(created=1)
    assert stored(shop, "D-1").title == "second"
    assert stored(shop, "D-1").brand is None

    events = [
        ProductIn(sku="E-1", title="Scarf", price=Decimal(5)),
        ProductIn(sku="E-1", price=Decimal(6)),
    ]
    assert upsert(shop, events, partial=True) == UpsertResult(created=1)
    product = stored(shop, "E-1")
    assert (product.title, product.price) == ("Scarf", Decimal(6))


def test_non_product_codes_are_marked(shop: Shopkeeper) -> None:
    batch = [
        ProductIn(sku="POST", title="POSTAGE"),
        ProductIn(sku="DOT", title="DOTCOM POSTAGE"),
        ProductIn(sku="BANK CHARGES", title="Bank Charges"),
        ProductIn(sku="gift_0001_20", title="Gift Voucher £20.00"),
        ProductIn(sku="85123A", title="WHITE HANGING HEART T-LIGHT HOLDER"),
        ProductIn(sku="SHOPIFY-SHIP", title="Shipping"),
    ]
    upsert(shop, batch, partial=True)
    flags = {p.sku: stored(shop, p.sku).is_product for p in batch}
    assert flags == {
        "POST": False,
        "DOT": False,
        "BANK CHARGES": False,
        "gift_0001_20": False,
        "85123A": True,
        "SHOPIFY-SHIP": False,
    }
    # An explicit flag wins over the rule.
    upsert(shop, [ProductIn(sku="POST", is_product=True)], partial=True)
    assert stored(shop, "POST").is_product is True


def test_large_batch_in_bulk(shop: Shopkeeper) -> None:
    batch = [
        ProductIn(sku=f"P{i:05d}", title=f"Product {i}", price=Decimal(i) / 100)
        for i in range(4_000)
    ]
    assert upsert(shop, batch, partial=False) == UpsertResult(created=4_000)
    changed = [*batch[:3_000], *(p.model_copy(update={"title": "new"}) for p in batch[3_000:])]
    assert upsert(shop, changed, partial=True) == UpsertResult(updated=1_000, unchanged=3_000)
    assert count(shop) == 4_000
    assert stored(shop, "P03999").title == "new"
    assert stored(shop, "P00001").price == Decimal("0.01")


def test_empty_batch(shop: Shopkeeper) -> None:
    assert upsert(shop, [], partial=True) == UpsertResult()
