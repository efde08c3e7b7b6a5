"""The bundled lists surrogates are drawn from: names and place-name pieces that belong to nobody in particular.

Chinese surnames are the most common ones of the published surname-frequency tables (the 百家姓 order for
the rest); given-name characters and English first/last names are common ones, written down here.
None is taken from a lab's data. Lists are tuples so the module is cheap to import and cannot be mutated.
"""

from __future__ import annotations

CN_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖"
    "贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
CN_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")
CN_GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯鹏辉健俊帆鑫宁欣雪琳晨悦婷瑶怡佳颖"
    "思嘉子文博然轩泽睿晗晓梦雨诗涵可馨一诺安琪雅琴丹亮峰波宏志国建新春海林洁倩莉晶慧巧美云莹璐蕾蓉"
)
# Nicknames built on a surname: 小王, 老周, 阿杰 (the prefix is kept, the rest is replaced).
CN_NICK_PREFIXES = "小老阿大"

EN_FIRST = (
    "Amy", "Ann", "Ben", "Bob", "Eva", "Ian", "Joe", "Leo", "Max", "Sam", "Tom", "Zoe", "Adam", "Alex", "Anna", "Carl",
    "Dana", "Emma", "Eric", "Gary", "Hugo", "Jack", "Jane", "John", "Kate", "Lily", "Lucy", "Luke", "Mark", "Mia",
    "Nick", "Noah", "Omar", "Paul", "Rosa", "Ruth", "Ryan", "Sara", "Tina", "Alice", "Brian", "Chloe", "Clara",
    "Colin", "David", "Diana", "Elena", "Ethan", "Fiona", "Grace", "Helen", "Isaac", "Jacob", "James", "Laura",
    "Maria", "Naomi", "Oscar", "Peter", "Rahul", "Simon", "Sofia", "Tariq", "Vera", "Wendy", "Andrew", "Claire",
    "Daniel", "Hannah", "Isabel", "Joanna", "Martin", "Nathan", "Oliver", "Rachel", "Robert", "Samuel", "Thomas",
    "Victor", "Yvonne", "Abigail", "Charles", "Eleanor", "Gabriel", "Jessica", "Matthew", "Michael", "Natalie",
    "Rebecca", "Stephen", "Caroline", "Benjamin", "Jonathan", "Margaret", "Patricia", "Samantha", "Victoria",
)
EN_LAST = (
    "Ng", "Li", "Wu", "Fox", "Kim", "Lee", "Ray", "Day", "Hall", "King", "Wood", "Hill", "Ford", "Bell", "Cole",
    "Gray", "Hunt", "Long", "Moss", "Park", "Reid", "Shaw", "West", "Young", "Baker", "Brown", "Clark", "Evans",
    "Green", "Hayes", "Lewis", "Moore", "Price", "Reyes", "Scott", "Stone", "Walsh", "White", "Wells", "Carter",
    "Cooper", "Fisher", "Foster", "Harris", "Hughes", "Murphy", "Nelson", "Palmer", "Parker", "Powell", "Turner",
    "Walker", "Warren", "Bennett", "Collins", "Edwards", "Fleming", "Garcia", "Jenkins", "Mitchell", "Morrison",
    "Richards", "Robinson", "Thompson", "Williams", "Henderson", "Patterson", "Rodriguez",
)

# Place names: two or three of these make a district, road or estate name that is not tied to one city.
CN_PLACE_CHARS = tuple("东西南北中新华兴安平和康宁阳春明光福泰长丰永金银龙凤青云山水河湖林石桥松柏梅竹荷桂清文德利民生园田溪")
EN_STREET_NAMES = (
    "Oak", "Elm", "Ash", "Pine", "Park", "Lake", "Hill", "Mill", "Bank", "Rose", "Cedar", "Maple", "Birch", "River",
    "Grove", "Church", "Spring", "Meadow", "Willow", "Chestnut", "Sycamore", "Highland",
)
# Reserved for documentation and examples (RFC 2606): mail to them reaches nobody.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
# Reserved for documentation (RFC 5737): no host on the internet has these addresses.
IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")
# Mainland mobile prefixes that phonenumbers 9.0.43 holds no allocation for (checked on 200 random numbers
# each): well-formed, so they read like a phone number, but no subscriber has one.
UNALLOCATED_MOBILE_PREFIXES = ("154", "160", "163", "164", "168", "169", "179", "194")
# GB/T 2260 assigns no province code 24-29: an ID number opening with one belongs to nobody.
UNASSIGNED_ID_PROVINCES = ("24", "25", "26", "27", "28", "29")
