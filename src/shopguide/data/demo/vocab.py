"""The demo catalog's vocabulary: categories, product types, invented brands and 搭配 complement rules.

Every brand here is invented for the demo; none is meant to name a real company or trademark.
"""

from __future__ import annotations

from shopguide.data.demo.terms import (
    COLORS,
    GENDERS,
    MATERIALS,
    OCCASIONS,
    SEASONS,
    STYLES,
    Brand,
    ProductType,
)
from shopguide.data.demo.types_goods import BABY, BEAUTY, ELECTRONICS, FOOD, HOME, SPORTS
from shopguide.data.demo.types_wear import ACCESSORIES, BAGS, CLOTHING, SHOES

#: Top-level category -> (English name, the verb a description uses: 穿着 / 使用 / 享用).
TOP_CATEGORIES: dict[str, tuple[str, str]] = {
    "服装": ("Clothing", "穿着"),
    "鞋靴": ("Shoes", "穿着"),
    "箱包": ("Bags & Luggage", "使用"),
    "配饰": ("Accessories", "佩戴"),
    "美妆": ("Beauty", "使用"),
    "数码": ("Electronics", "使用"),
    "家居": ("Home", "使用"),
    "运动户外": ("Sports & Outdoors", "使用"),
    "食品": ("Food", "享用"),
    "母婴": ("Baby", "使用"),
}

#: Leaf product type (Chinese) -> its definition, in catalog order.
PRODUCT_TYPES: dict[str, ProductType] = {
    t.zh: t
    for group in (CLOTHING, SHOES, BAGS, ACCESSORIES, BEAUTY, ELECTRONICS, HOME, SPORTS, FOOD, BABY)
    for t in group
}

#: Chinese -> English for every top-level category and product type.
CATEGORY_NAMES: dict[str, str] = {
    **{zh: en for zh, (en, _) in TOP_CATEGORIES.items()},
    **{zh: t.en for zh, t in PRODUCT_TYPES.items()},
}

BRANDS: dict[str, tuple[Brand, ...]] = {
    "服装": (Brand("北辰", "Beichen", 1), Brand("素野", "Suye", 0), Brand("栖木", "Qimu", 1),
             Brand("Lumora", "Lumora", 2), Brand("青禾", "Qinghe", 0), Brand("Aurevia", "Aurevia", 2)),
    "鞋靴": (Brand("步云", "Buyun", 1), Brand("踏川", "Tachuan", 0), Brand("Corvella", "Corvella", 2),
             Brand("行屿", "Xingyu", 1)),
    "箱包": (Brand("舟屿", "Zhouyu", 1), Brand("Vantelle", "Vantelle", 2), Brand("携途", "Xietu", 0),
             Brand("知岸", "Zhi'an", 1)),
    "配饰": (Brand("望舒", "Wangshu", 2), Brand("星蔓", "Xingman", 1), Brand("Marivel", "Marivel", 2),
             Brand("简拾", "Jianshi", 0)),
    "美妆": (Brand("花汐", "Huaxi", 1), Brand("Selvane", "Selvane", 2), Brand("澄颜", "Chengyan", 0),
             Brand("露芷", "Luzhi", 1), Brand("Velourne", "Velourne", 2)),
    "数码": (Brand("极川", "Jichuan", 1), Brand("Kelvio", "Kelvio", 2), Brand("声屿", "Shengyu", 1),
             Brand("朗驰", "Langchi", 0)),
    "家居": (Brand("栖居", "Qiju", 1), Brand("木与", "Muyu", 2), Brand("暖窝", "Nuanwo", 0),
             Brand("Hearthly", "Hearthly", 1)),
    "运动户外": (Brand("峰行", "Fengxing", 1), Brand("逐风", "Zhufeng", 1), Brand("青峦", "Qingluan", 2),
                 Brand("跃野", "Yueye", 0)),
    "食品": (Brand("山野集", "Shanyeji", 1), Brand("谷田记", "Gutianji", 0), Brand("茶语山", "Chayushan", 2),
             Brand("蜂谷", "Fenggu", 1)),
    "母婴": (Brand("贝芽", "Beiya", 1), Brand("暖暖熊", "Nuannuan Bear", 0), Brand("Petitoa", "Petitoa", 2),
             Brand("小橡树", "Little Oak", 1)),
}  # fmt: skip

#: Brand (as written on items, Chinese) -> English.
BRAND_NAMES: dict[str, str] = {b.zh: b.en for group in BRANDS.values() for b in group}

#: 搭配 rules: product type -> product types that go well with it.
COMPLEMENTS: dict[str, list[str]] = {
    "衬衫": ["西裤", "牛仔裤", "皮鞋", "领带", "皮带"],
    "T恤": ["牛仔裤", "运动鞋", "帆布鞋", "棒球帽"],
    "牛仔裤": ["T恤", "衬衫", "运动鞋", "帆布鞋", "皮带"],
    "西裤": ["衬衫", "皮鞋", "皮带", "领带"],
    "连衣裙": ["高跟鞋", "手提包", "项链", "墨镜"],
    "羽绒服": ["围巾", "短靴", "针织衫"],
    "卫衣": ["牛仔裤", "运动鞋", "棒球帽", "双肩包"],
    "风衣": ["短靴", "围巾", "斜挎包", "针织衫"],
    "针织衫": ["风衣", "牛仔裤", "围巾"],
    "皮鞋": ["西裤", "皮带", "公文包"],
    "高跟鞋": ["连衣裙", "手提包"],
    "运动鞋": ["运动袜", "卫衣", "T恤"],
    "帆布鞋": ["T恤", "牛仔裤", "双肩包"],
    "雨靴": ["雨伞", "冲锋衣"],
    "短靴": ["风衣", "牛仔裤", "围巾"],
    "手提包": ["钱包", "连衣裙", "高跟鞋"],
    "双肩包": ["笔记本电脑", "运动水壶", "充电宝"],
    "行李箱": ["双肩包", "充电宝", "防晒霜"],
    "钱包": ["手提包", "皮带"],
    "斜挎包": ["钱包", "墨镜"],
    "公文包": ["笔记本电脑", "皮鞋", "衬衫"],
    "雨伞": ["雨靴", "冲锋衣"],
    "棒球帽": ["T恤", "墨镜"],
    "围巾": ["羽绒服", "风衣", "针织衫"],
    "墨镜": ["防晒霜", "棒球帽"],
    "项链": ["连衣裙", "香水"],
    "领带": ["衬衫", "西裤"],
    "皮带": ["西裤", "牛仔裤", "钱包"],
    "腕表": ["皮带", "衬衫"],
    "口红": ["香水", "手提包"],
    "面霜": ["精华液", "洗面奶", "防晒霜"],
    "精华液": ["面霜", "洗面奶"],
    "防晒霜": ["墨镜", "棒球帽", "雨伞"],
    "香水": ["口红", "项链"],
    "洗面奶": ["面霜", "精华液"],
    "手机": ["手机壳", "耳机", "充电器", "充电宝"],
    "手机壳": ["手机", "充电器"],
    "耳机": ["手机", "充电器"],
    "充电器": ["手机", "充电宝"],
    "平板电脑": ["耳机", "充电器"],
    "智能手表": ["耳机", "跑步鞋"],
    "笔记本电脑": ["双肩包", "耳机", "充电器"],
    "充电宝": ["手机", "充电器"],
    "四件套": ["枕头", "毛毯"],
    "枕头": ["四件套"],
    "台灯": ["马克杯", "香薰蜡烛"],
    "马克杯": ["咖啡", "茶叶"],
    "香薰蜡烛": ["毛毯", "马克杯"],
    "毛毯": ["四件套", "香薰蜡烛"],
    "跑步鞋": ["运动袜", "运动T恤", "运动水壶", "智能手表"],
    "运动袜": ["跑步鞋"],
    "运动T恤": ["跑步鞋", "运动袜"],
    "瑜伽垫": ["运动T恤", "运动水壶"],
    "冲锋衣": ["帐篷", "双肩包", "雨靴"],
    "帐篷": ["冲锋衣", "运动水壶"],
    "运动水壶": ["跑步鞋", "瑜伽垫"],
    "坚果": ["茶叶", "巧克力"],
    "茶叶": ["马克杯", "坚果"],
    "咖啡": ["马克杯", "巧克力"],
    "牛肉干": ["坚果"],
    "巧克力": ["咖啡", "坚果"],
    "蜂蜜": ["茶叶"],
    "纸尿裤": ["婴儿连体衣", "奶瓶"],
    "奶瓶": ["纸尿裤", "婴儿连体衣"],
    "婴儿连体衣": ["纸尿裤", "婴儿推车"],
    "婴儿推车": ["纸尿裤", "婴儿连体衣"],
}

#: Chinese -> English for every attribute value the demo items carry (colour, material, style, ...).
ATTRIBUTE_VALUES: dict[str, str] = {
    **GENDERS,
    **SEASONS,
    **STYLES,
    **{zh: en for zh, (en, _) in OCCASIONS.items()},
    **COLORS,
    **MATERIALS,
}


def price_band(product_type: str) -> tuple[float, float]:
    """The (low, high) price band in CNY of a demo product type (KeyError when unknown)."""
    return PRODUCT_TYPES[product_type].price
