"""Shared words of the demo catalog: attribute values in Chinese with their English, size sets, palettes.

Attribute values are stored in Chinese on the items; :data:`ATTRIBUTE_VALUES` gives the English for every one,
so the guide can understand and answer in either language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

GENDERS: dict[str, str] = {"男": "Men", "女": "Women", "中性": "Unisex"}
GENDER_TITLE: dict[str, tuple[str, str]] = {"男": ("男士", "Men's"), "女": ("女士", "Women's"), "中性": ("", "")}

SEASONS: dict[str, str] = {
    "四季": "All Seasons",
    "春秋": "Spring/Autumn",
    "春夏": "Spring/Summer",
    "夏季": "Summer",
    "秋冬": "Autumn/Winter",
    "冬季": "Winter",
}

STYLES: dict[str, str] = {
    "简约": "Minimalist",
    "商务": "Business",
    "休闲": "Casual",
    "运动": "Sporty",
    "复古": "Vintage",
    "街头": "Streetwear",
    "甜美": "Sweet",
    "优雅": "Elegant",
    "户外": "Outdoor",
    "可爱": "Cute",
    "北欧": "Nordic",
    "国潮": "Guochao",
}

#: Occasion -> (English, the phrase a Chinese description uses for it).
OCCASIONS: dict[str, tuple[str, str]] = {
    "日常": ("Everyday", "日常生活"),
    "通勤": ("Commute", "上班通勤"),
    "商务": ("Business", "商务场合"),
    "约会": ("Date", "约会出行"),
    "派对": ("Party", "派对聚会"),
    "婚礼": ("Wedding", "婚礼宴会"),
    "度假": ("Vacation", "海边度假"),
    "运动": ("Sports", "运动健身"),
    "户外": ("Outdoor", "户外出行"),
    "旅行": ("Travel", "出差旅行"),
    "居家": ("Home", "居家生活"),
    "送礼": ("Gift", "节日送礼"),
    "雨天": ("Rainy Day", "雨天出行"),
    "校园": ("Campus", "校园生活"),
    "办公": ("Office", "办公学习"),
}

COLORS: dict[str, str] = {
    "白色": "White",
    "黑色": "Black",
    "藏青色": "Navy",
    "灰色": "Grey",
    "米色": "Beige",
    "卡其色": "Khaki",
    "浅蓝色": "Light Blue",
    "深蓝色": "Dark Blue",
    "蓝色": "Blue",
    "酒红色": "Burgundy",
    "红色": "Red",
    "墨绿色": "Dark Green",
    "绿色": "Green",
    "粉色": "Pink",
    "黄色": "Yellow",
    "紫色": "Purple",
    "橙色": "Orange",
    "棕色": "Brown",
    "驼色": "Camel",
    "裸色": "Nude",
    "银色": "Silver",
    "金色": "Gold",
    "玫瑰金": "Rose Gold",
    "透明": "Clear",
    "荧光绿": "Neon Green",
    "正红色": "Classic Red",
    "豆沙色": "Rose Nude",
    "枫叶红": "Maple Red",
    "珊瑚色": "Coral",
    "番茄红": "Tomato Red",
    "奶茶色": "Milk-Tea Nude",
}

PALETTES: dict[str, tuple[str, ...]] = {
    "apparel": ("白色", "黑色", "藏青色", "灰色", "米色", "卡其色", "浅蓝色", "酒红色", "墨绿色", "粉色"),
    "dress": ("黑色", "白色", "粉色", "酒红色", "藏青色", "米色", "浅蓝色", "黄色", "绿色"),
    "denim": ("浅蓝色", "深蓝色", "黑色", "灰色"),
    "down": ("黑色", "白色", "藏青色", "米色", "卡其色", "红色", "墨绿色"),
    "shoes": ("黑色", "白色", "棕色", "米色", "灰色", "藏青色"),
    "heels": ("黑色", "裸色", "红色", "米色", "银色"),
    "leather": ("黑色", "棕色", "酒红色", "驼色"),
    "bags": ("黑色", "棕色", "米色", "驼色", "酒红色", "白色", "墨绿色"),
    "tech": ("黑色", "白色", "银色", "蓝色", "紫色"),
    "case": ("透明", "黑色", "粉色", "蓝色", "绿色", "紫色"),
    "lip": ("正红色", "豆沙色", "枫叶红", "珊瑚色", "番茄红", "奶茶色"),
    "home": ("白色", "灰色", "米色", "浅蓝色", "粉色", "绿色"),
    "sport": ("黑色", "白色", "灰色", "蓝色", "荧光绿", "橙色", "红色"),
    "outdoor": ("黑色", "藏青色", "墨绿色", "橙色", "红色", "灰色"),
    "baby": ("白色", "粉色", "浅蓝色", "黄色", "米色", "绿色"),
    "umbrella": ("黑色", "藏青色", "粉色", "透明", "黄色", "墨绿色"),
    "metal": ("银色", "金色", "玫瑰金"),
}

MATERIALS: dict[str, str] = {
    "纯棉": "Cotton",
    "有机棉": "Organic Cotton",
    "亚麻": "Linen",
    "真丝": "Silk",
    "雪纺": "Chiffon",
    "针织": "Knit",
    "羊毛": "Wool",
    "羊绒": "Cashmere",
    "牛津纺": "Oxford Cotton",
    "弹力棉": "Stretch Cotton",
    "牛仔布": "Denim",
    "涤纶": "Polyester",
    "莫代尔": "Modal",
    "速干": "Quick-Dry",
    "白鹅绒": "Goose-Down",
    "白鸭绒": "Duck-Down",
    "真皮": "Leather",
    "头层牛皮": "Full-Grain Leather",
    "PU皮": "Faux Leather",
    "麂皮": "Suede",
    "帆布": "Canvas",
    "尼龙": "Nylon",
    "网面": "Mesh",
    "橡胶": "Rubber",
    "PVC": "PVC",
    "PC": "PC",
    "铝镁合金": "Aluminium-Magnesium",
    "硅胶": "Silicone",
    "TPU": "TPU",
    "铝合金": "Aluminium",
    "不锈钢": "Stainless Steel",
    "陶瓷": "Ceramic",
    "玻璃": "Glass",
    "实木": "Solid Wood",
    "莱赛尔": "Lyocell",
    "磨毛棉": "Brushed Cotton",
    "乳胶": "Latex",
    "记忆棉": "Memory Foam",
    "羽绒": "Down",
    "珊瑚绒": "Coral Fleece",
    "大豆蜡": "Soy Wax",
    "TPE": "TPE",
    "天然橡胶": "Natural Rubber",
    "PPSU": "PPSU",
    "纯银": "Sterling Silver",
    "18K金": "18K Gold",
    "珍珠": "Pearl",
    "钛合金": "Titanium",
    "板材": "Acetate",
    "竹纤维": "Bamboo Fibre",
    "ABS": "ABS",
}

SizeMode = Literal["slash", "dash", "pick", "attr", "one"]


@dataclass(frozen=True)
class SizeSet:
    """Sizes a product type comes in.

    ``mode``: ``slash``/``dash`` list a run of sizes ("S/M/L", "39-44"); ``pick`` gives one size that also
    appears in the title ("256GB"); ``attr`` gives one size in the attributes only; ``one`` is one size.
    """

    values: tuple[str, ...]
    mode: SizeMode
    unit: str = ""


SIZES: dict[str, SizeSet] = {
    "apparel": SizeSet(("XS", "S", "M", "L", "XL", "XXL"), "slash"),
    "waist": SizeSet(("26", "27", "28", "29", "30", "31", "32", "33", "34", "36"), "dash"),
    "shoe:男": SizeSet(("38", "39", "40", "41", "42", "43", "44", "45"), "dash"),
    "shoe:女": SizeSet(("34", "35", "36", "37", "38", "39", "40"), "dash"),
    "shoe": SizeSet(("35", "36", "37", "38", "39", "40", "41", "42", "43", "44"), "dash"),
    "baby": SizeSet(("52", "59", "66", "73", "80", "90"), "dash", "cm"),
    "one": SizeSet(("均码",), "one"),
    "socks": SizeSet(("M", "L"), "slash"),
    "bag": SizeSet(("小号", "中号", "大号"), "attr"),
    "case": SizeSet(("6.1英寸", "6.3英寸", "6.7英寸"), "attr"),
    "storage": SizeSet(("128GB", "256GB", "512GB", "1TB"), "pick"),
    "laptop": SizeSet(("16GB+512GB", "16GB+1TB", "32GB+1TB"), "pick"),
    "watch": SizeSet(("42mm", "46mm"), "pick"),
    "bedding": SizeSet(("1.5m床", "1.8m床", "2.0m床"), "pick"),
    "pillow": SizeSet(("48×74cm", "40×60cm"), "attr"),
    "suitcase": SizeSet(("20英寸", "24英寸", "28英寸"), "pick"),
    "serum": SizeSet(("30ml", "50ml"), "pick"),
    "cleanser": SizeSet(("100g", "150g"), "pick"),
    "cream": SizeSet(("30g", "50g"), "pick"),
    "sunscreen": SizeSet(("40ml", "60ml", "100ml"), "pick"),
    "perfume": SizeSet(("30ml", "50ml", "100ml"), "pick"),
    "lipstick": SizeSet(("3.5g",), "one"),
    "weight": SizeSet(("250g", "500g", "750g", "1kg"), "pick"),
    "tea": SizeSet(("100g", "250g", "500g"), "pick"),
    "coffee": SizeSet(("250g", "500g", "20袋"), "pick"),
    "honey": SizeSet(("500g", "1kg"), "pick"),
    "power": SizeSet(("20W", "33W", "65W", "100W"), "pick"),
    "battery": SizeSet(("10000mAh", "20000mAh"), "pick"),
    "diaper": SizeSet(("NB", "S", "M", "L", "XL", "XXL"), "pick"),
    "bottle": SizeSet(("150ml", "240ml", "300ml"), "pick"),
    "kettle": SizeSet(("500ml", "750ml", "1L"), "pick"),
    "mat": SizeSet(("4mm", "6mm", "8mm", "10mm"), "pick"),
    "tent": SizeSet(("2人", "3-4人", "5-8人"), "pick"),
    "mug": SizeSet(("350ml", "450ml"), "attr"),
    "blocks": SizeSet(("300粒", "500粒", "1000粒"), "pick"),
}

#: English for size words that are not the same in both languages.
SIZE_EN: dict[str, str] = {
    "均码": "One Size",
    "小号": "Small",
    "中号": "Medium",
    "大号": "Large",
    "6.1英寸": '6.1"',
    "6.3英寸": '6.3"',
    "6.7英寸": '6.7"',
    "1.5m床": "1.5 m Bed",
    "1.8m床": "1.8 m Bed",
    "2.0m床": "2.0 m Bed",
    "20英寸": '20"',
    "24英寸": '24"',
    "28英寸": '28"',
    "20袋": "20 Bags",
    "2人": "2-Person",
    "3-4人": "3-4 Person",
    "5-8人": "5-8 Person",
    "300粒": "300 Pieces",
    "500粒": "500 Pieces",
    "1000粒": "1000 Pieces",
}


@dataclass(frozen=True)
class Brand:
    """An invented brand. ``tier`` 0/1/2 = budget/mid/premium: where its prices sit in each price band."""

    zh: str
    en: str
    tier: int


@dataclass(frozen=True)
class ProductType:
    """One leaf category of the demo catalog and everything needed to write plausible items of it.

    ``price`` is the band (CNY) every item of the type is priced in. ``mods`` are (Chinese, English, implied
    style or "") title modifiers such as 修身长袖 / Slim-Fit Long-Sleeve. ``noun_zh`` defaults to ``zh``;
    ``verb`` (穿着, 使用...) overrides the one of the top-level category in descriptions.
    """

    zh: str
    en: str
    noun_en: str
    price: tuple[float, float]
    top: str = ""
    noun_zh: str = ""
    sizes: str | None = None
    materials: tuple[str, ...] = ()
    material_in_title: bool = True
    palette: str | None = None
    genders: tuple[str, ...] = ()
    seasons: tuple[str, ...] = ("四季",)
    occasions: tuple[str, ...] = ("日常",)
    styles: tuple[str, ...] = ()
    mods: tuple[tuple[str, str, str], ...] = ()
    tags: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    count: int = 7
    verb: str = ""

    def __post_init__(self) -> None:
        if not self.noun_zh:
            object.__setattr__(self, "noun_zh", self.zh)


def category(top: str, *types: ProductType) -> tuple[ProductType, ...]:
    """Attach the top-level category ``top`` to each product type."""
    return tuple(replace(t, top=top) for t in types)
