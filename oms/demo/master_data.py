"""Master data for the demo: subsidiaries, warehouses, channels, couriers, categories, ~200 SKUs."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction

from oms.catalog.models import BundleComponent, Category, Sku
from oms.channels.models import Channel, Classification, Platform
from oms.fulfillment.models import Courier
from oms.inventory.models import Subsidiary, Warehouse

SUBSIDIARIES = [("EAST", "华东分公司", "91330100MA2B3C4D5N"), ("SOUTH", "华南分公司", "91440100MA5F6G7H81")]

# code, name, subsidiary, province adcode, city, coverage (empty = nationwide), priority
WAREHOUSES = [
    ("HZ01", "杭州主仓", "EAST", "330000", "杭州", [], 10),
    ("SH01", "上海前置仓", "EAST", "310000", "上海", ["310000", "320000", "330000", "340000"], 20),
    ("GZ01", "广州主仓", "SOUTH", "440000", "广州", [], 10),
    (
        "CD01",
        "成都仓",
        "SOUTH",
        "510000",
        "成都",
        ["510000", "500000", "520000", "530000", "540000", "610000", "620000", "630000", "640000", "650000"],
        30,
    ),
]

CHANNELS = [
    ("TMALL", "天猫旗舰店", Platform.TMALL, Classification.ONLINE),
    ("JD", "京东旗舰店", Platform.JD, Classification.ONLINE),
    ("VIP", "唯品会专卖店", Platform.VIP, Classification.ONLINE),
    ("DOUYIN", "抖音小店", Platform.DOUYIN, Classification.ONLINE),
    ("STORE-SH", "上海南京路线下门店", Platform.STORE, Classification.OFFLINE),
    ("DIST-01", "华北经销商", Platform.DISTRIBUTOR, Classification.OFFLINE),
]

COURIERS = [
    ("SF", "顺丰速运", True, 50_000),
    ("ZTO", "中通快递", False, 30_000),
    ("YTO", "圆通速递", False, 30_000),
    ("YUNDA", "韵达快递", False, 30_000),
    ("JDL", "京东物流", True, 50_000),
    ("EMS", "中国邮政EMS", True, 40_000),
]

# What invoices print per category (税收分类编码, unit): demo codes of the right shape, 19 digits.
INVOICE_ITEMS = {
    "FOOD": ("1030199000000000000", "袋"),
    "DRINK": ("1030307020000000000", "件"),
    "BEAUTY": ("1070223010000000000", "件"),
    "HOME": ("1060512990000000000", "件"),
    "APPAREL": ("1040503990000000000", "件"),
    "DIGITAL": ("1090512990000000000", "个"),
    "BABY": ("1060999000000000000", "件"),
    "GIFT": ("1060512990000000000", "件"),
    "BUNDLE": ("1060512990000000000", "套"),
}


def _invoice_items() -> None:
    for category, (code, unit) in INVOICE_ITEMS.items():
        Sku.objects.filter(category__code=category).update(tax_code=code, invoice_unit=unit)


# category code, name, products (name, base weight g, base volume cm³), tax rate bp
CATEGORIES = [
    (
        "FOOD",
        "休闲食品",
        [
            ("坚果礼盒", 800, 4000),
            ("每日坚果", 300, 1500),
            ("牛肉干", 200, 800),
            ("芒果干", 150, 700),
            ("手撕面包", 500, 3000),
        ],
        900,
    ),
    (
        "DRINK",
        "酒水饮料",
        [
            ("龙井绿茶", 250, 1200),
            ("普洱茶饼", 357, 1500),
            ("矿泉水整箱", 12000, 24000),
            ("燕麦奶", 1000, 1100),
            ("精品咖啡豆", 500, 1800),
        ],
        1300,
    ),
    (
        "BEAUTY",
        "美妆个护",
        [
            ("保湿面霜", 120, 300),
            ("氨基酸洗面奶", 150, 250),
            ("防晒霜", 80, 150),
            ("洗发水", 750, 900),
            ("面膜", 250, 500),
        ],
        1300,
    ),
    (
        "HOME",
        "家居日用",
        [
            ("纯棉毛巾", 200, 1000),
            ("保温杯", 400, 1200),
            ("收纳箱", 1500, 30000),
            ("床品四件套", 2500, 9000),
            ("陶瓷碗套装", 3000, 8000),
        ],
        1300,
    ),
    (
        "APPAREL",
        "服饰",
        [
            ("纯棉T恤", 220, 1500),
            ("羽绒服", 900, 12000),
            ("运动袜", 80, 300),
            ("牛仔裤", 600, 3000),
            ("羊毛围巾", 250, 1500),
        ],
        1300,
    ),
    (
        "DIGITAL",
        "数码配件",
        [
            ("蓝牙耳机", 150, 400),
            ("充电宝", 300, 500),
            ("数据线", 50, 100),
            ("手机壳", 40, 150),
            ("无线鼠标", 100, 300),
        ],
        1300,
    ),
    (
        "BABY",
        "母婴用品",
        [
            ("婴儿湿巾", 500, 2000),
            ("纸尿裤", 1800, 12000),
            ("奶瓶", 200, 800),
            ("儿童牙刷", 30, 60),
            ("婴儿洗衣液", 1200, 1500),
        ],
        1300,
    ),
]
VARIANTS = ["标准装", "大号", "小号", "红色", "蓝色", "经典款"]
GIFTS = [
    ("GIFT-BAG", "品牌环保袋"),
    ("GIFT-SAMPLE", "试用装小样"),
    ("GIFT-CARD", "感谢卡"),
    ("GIFT-KEYRING", "钥匙扣"),
    ("GIFT-COASTER", "杯垫"),
    ("GIFT-PEN", "签字笔"),
    ("GIFT-STICKER", "贴纸"),
    ("GIFT-MASK", "一次性面膜"),
    ("GIFT-TOWEL", "小方巾"),
    ("GIFT-CANDY", "糖果"),
]


@dataclass(frozen=True)
class MasterDataSummary:
    subsidiaries: int
    warehouses: int
    channels: int
    couriers: int
    skus: int
    bundles: int
    gifts: int


def _ean13(seq: int) -> str:
    body = f"69{seq:010d}"[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@transaction.atomic
def load_master_data(seed: int = 2026) -> MasterDataSummary:
    rng = random.Random(seed)
    subs = {code: Subsidiary.objects.create(code=code, name=name, tax_id=tax) for code, name, tax in SUBSIDIARIES}
    for code, name, sub, province, city, coverage, priority in WAREHOUSES:
        Warehouse.objects.create(
            code=code,
            name=name,
            subsidiary=subs[sub],
            province=province,
            city=city,
            coverage_provinces=coverage,
            priority=priority,
        )
    for code, name, platform, cls in CHANNELS:
        Channel.objects.create(code=code, name=name, platform=platform, classification=cls)
    for code, name, cod, max_w in COURIERS:
        Courier.objects.create(code=code, name=name, supports_cod=cod, max_weight_g=max_w)

    skus: list[Sku] = []
    seq = 1
    for cat_code, cat_name, products, tax in CATEGORIES:
        category = Category.objects.create(code=cat_code, name=cat_name)
        for p_index, (product, weight, volume) in enumerate(products):
            for variant in rng.sample(VARIANTS, 5):
                skus.append(
                    Sku(
                        code=f"{cat_code}-{p_index + 1:02d}-{len(skus) + 1:03d}",
                        name=f"{product}（{variant}）",
                        barcode=_ean13(seq),
                        category=category,
                        weight_g=max(10, int(weight * rng.uniform(0.8, 1.3))),
                        volume_cm3=max(10, int(volume * rng.uniform(0.8, 1.3))),
                        tax_rate_bp=tax,
                    )
                )
                seq += 1
    gift_category = Category.objects.create(code="GIFT", name="赠品")
    for code, name in GIFTS:
        skus.append(
            Sku(
                code=code,
                name=name,
                barcode=_ean13(seq),
                category=gift_category,
                weight_g=50,
                volume_cm3=100,
                is_gift=True,
            )
        )
        seq += 1
    Sku.objects.bulk_create(skus)
    _invoice_items()

    plain = list(Sku.objects.filter(is_gift=False, is_bundle=False).order_by("code"))
    bundle_category = Category.objects.create(code="BUNDLE", name="组合装")
    bundles = 0
    for i in range(15):
        parts = rng.sample(plain, rng.choice([2, 3]))
        bundle = Sku.objects.create(
            code=f"BUNDLE-{i + 1:02d}",
            name="组合装：" + " + ".join(p.name.split("（")[0] for p in parts),
            category=bundle_category,
            weight_g=sum(p.weight_g for p in parts),
            volume_cm3=sum(p.volume_cm3 for p in parts),
            is_bundle=True,
        )
        BundleComponent.objects.bulk_create(
            [BundleComponent(bundle=bundle, component=p, quantity=rng.choice([1, 1, 2])) for p in parts]
        )
        bundles += 1
    _invoice_items()
    return MasterDataSummary(
        subsidiaries=len(SUBSIDIARIES),
        warehouses=len(WAREHOUSES),
        channels=len(CHANNELS),
        couriers=len(COURIERS),
        skus=Sku.objects.count(),
        bundles=bundles,
        gifts=len(GIFTS),
    )
