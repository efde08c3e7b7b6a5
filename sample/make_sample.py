"""Generate persona-lab's bundled demo data: the exports of a fictional person, 林澈 (Lin Che).

Everything here is invented for the project: the people, the conversations, and every private-looking
value (phone numbers, the ID number, the bank card, the address, passwords …). Those values are planted on
purpose so the privacy stage has something to find; they are listed in planted_private.json, and the
values that only *look* private (order numbers, amounts, tracking numbers …) in planted_lookalikes.json.

Run:  python sample/make_sample.py        (writes sample/wechat/, sample/telegram/, the two planted_*.json,
                                          then re-reads everything and prints per-chat counts)

The conversations are written below in a tiny script language, one string per chat:
  == 2024-02-03 19:42:10     a new session starts at this local time (seconds optional)
  +25m / +40s / +3h          an extra pause inside a session
  > text                     a message from me (阿澈, is_sender = 1)
  < text                     a message from the contact; in a group "< 周晓雨: text"
  ! #系统通知 text            a row no person sent (system notices)
  > #图片 / < #语音 …         a non-text row: #<type> [msg]; a few short aliases are listed in TYPE_ALIAS
  -- PAGE --                 (赵磊 only) where the second PyWxDump page file begins
  // comment
A literal "\\n" inside a line becomes a newline in the message. <<ID>> and <<BANK>> are replaced by the
computed resident ID number and bank card number. Times advance by a few seconds between one sender's
consecutive messages and by up to a few minutes when the other side answers; the random source is seeded
per chat, so the output is the same on every run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ME_WXID = "wxid_linche_1997"
ME_NICK = "阿澈"
TG_ME_NAME = "Lin Che"
TG_ME_ID = 5550101
TG_FRIEND_NAME = "Maya Chen"
TG_FRIEND_ID = 5550202
CST = timezone(timedelta(hours=8))  # Lin Che's exports are in Hangzhou wall-clock time

HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime"]


# --------------------------------------------------------------------------------------------------
# Check digits: the planted ID and card numbers must be format-valid, and the look-alikes must not be.
# --------------------------------------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CODES = "10X98765432"


def gb11643_check(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643-1999, ISO 7064 MOD 11-2)."""
    return _ID_CODES[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def id_valid(number: str) -> bool:
    return len(number) == 18 and number[:17].isdigit() and gb11643_check(number[:17]) == number[17].upper()


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(payload: str) -> str:
    """payload + the Luhn check digit."""
    for check in "0123456789":
        if luhn_valid(payload + check):
            return payload + check
    raise AssertionError("unreachable")


# 成都市锦江区 (510104), born 1997-06-14, sequence 273 (odd: male), then the computed check character.
ID_NUMBER = "51010419970614273" + gb11643_check("51010419970614273")
# 19-digit debit card (BIN 622202), Luhn-completed.
BANK_CARD = luhn_complete("622202120304556781")


# --------------------------------------------------------------------------------------------------
# The script reader and the row builder
# --------------------------------------------------------------------------------------------------
TYPE_ALIAS = {
    "链接": "(分享)卡片式链接",
    "合并转发": "合并转发的聊天记录",
    "引用": "引用回复",
    "表情": "动画表情",
    "GIF": "用户上传的GIF表情",
}
KNOWN_TYPES = {
    "文本", "图片", "语音", "视频", "动画表情", "位置", "文件", "(分享)卡片式链接", "合并转发的聊天记录",
    "引用回复", "转账", "语音通话", "系统通知", "消息撤回", "拍一拍", "添加好友", "邀请加群",
    "用户上传的GIF表情",
}
_GAP = re.compile(r"^\+(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Chat:
    def __init__(self, wxid: str, name: str, facet: str, script: str, time_style: str,
                 members: tuple[str, ...] = (), seed: int = 0):
        self.wxid, self.name, self.facet, self.script = wxid, name, facet, script
        self.time_style, self.members = time_style, members
        self.rng = random.Random(seed or int(hashlib.md5(wxid.encode()).hexdigest()[:8], 16))

    @property
    def is_group(self) -> bool:
        return self.wxid.endswith("@chatroom")


def _hex(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _fmt_time(moment: datetime, style: str) -> str:
    if style == "slash":  # "2024/10/4 11:42", as some PyWxDump versions write it
        return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _src_for(type_name: str, msg: str, chat: Chat, moment: datetime, is_sender: int, svrid: str) -> str:
    rng = chat.rng
    ym = moment.strftime("%Y-%m")
    if type_name == "图片":
        return f"FileStorage/Image/{ym}/{_hex(rng)}.dat"
    if type_name == "视频":
        return f"FileStorage/Video/{ym}/{_hex(rng)}.mp4"
    if type_name == "语音":
        return f"audio/{chat.wxid}/{moment.strftime('%Y-%m-%d_%H-%M-%S')}_{is_sender}_{svrid}.wav"
    if type_name == "动画表情":
        return f"http://wxapp.tc.qq.com/262/20304/stodownload?m={_hex(rng)}&filekey={_hex(rng)}&bizid=1023"
    if type_name == "用户上传的GIF表情":
        return f"FileStorage/CustomEmotion/{_hex(rng, 2)}/{_hex(rng)}"
    if type_name == "文件":
        return f"FileStorage/File/{ym}/{msg}"
    return ""


def build_rows(chat: Chat) -> tuple[list[list[str]], int | None]:
    """The CSV rows of one chat, and the index where a second page starts (or None)."""
    rows: list[list[str]] = []
    page_break: int | None = None
    now: datetime | None = None
    last_sender: str | None = None
    last_len = 0
    for lineno, raw in enumerate(chat.script.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line == "-- PAGE --":
            page_break = len(rows)
            continue
        if line.startswith("=="):
            stamp = line[2:].strip()
            if len(stamp) == 16:  # no seconds given: pick some
                stamp += f":{chat.rng.randint(0, 59):02d}"
            start = datetime.fromisoformat(stamp)
            if now is not None and start <= now:
                raise ValueError(f"{chat.name} line {lineno}: session {stamp} starts before {now}")
            now, last_sender = start, None
            continue
        gap = _GAP.match(line)
        if gap:
            now += timedelta(seconds=int(gap.group(1)) * _UNIT[gap.group(2)])
            continue
        marker, body = line[0], line[1:].strip()
        if marker not in "<>!" or now is None:
            raise ValueError(f"{chat.name} line {lineno}: cannot read {raw!r}")
        if marker == ">":
            is_sender, talker = 1, ME_NICK
        elif marker == "!":
            is_sender, talker = 0, "" if chat.is_group else chat.name
        elif chat.is_group:
            talker, _, body = body.partition(":")
            talker, body = talker.strip(), body.strip()
            if talker not in chat.members:
                raise ValueError(f"{chat.name} line {lineno}: {talker!r} is not a member")
            is_sender = 0
        else:
            is_sender, talker = 0, chat.name
        type_name, msg = "文本", body
        if body.startswith("#"):
            head, _, rest = body[1:].partition(" ")
            type_name, msg = TYPE_ALIAS.get(head, head), rest.strip()
            if type_name not in KNOWN_TYPES:
                raise ValueError(f"{chat.name} line {lineno}: unknown type {head!r}")
        msg = msg.replace("\\n", "\n").replace("<<ID>>", ID_NUMBER).replace("<<BANK>>", BANK_CARD)
        # the pause before this row: quick within one sender's burst, longer when the other side answers
        if last_sender is not None:  # the first row of a session keeps the session's time
            who = f"{is_sender}:{talker}"
            if who == last_sender:
                step = chat.rng.randint(3, 25) + len(msg) // 3
            else:
                step = chat.rng.randint(15, 140) + len(msg) // 2 + last_len // 6
            now += timedelta(seconds=step)
        last_sender, last_len = f"{is_sender}:{talker}", len(msg)
        svrid = str(chat.rng.randint(10**18, 9 * 10**18))
        rows.append([
            str(len(rows) + 1), svrid, type_name, str(is_sender), talker, chat.wxid, msg,
            _src_for(type_name, msg, chat, now, is_sender, svrid), _fmt_time(now, chat.time_style),
        ])
    return rows, page_break


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)  # what PyWxDump uses
        writer.writerow(HEADER)
        writer.writerows(rows)


# ==================================================================================================
# The chats. Everything below is invented.
# ==================================================================================================

# 妈妈 — family. She worries and writes a lot; he answers in two or three words.
MOM = r"""
== 2024-02-03 19:42:10
< 澈澈 票买好没有
< 今年几号回来
> 买好了
> 8号下午的高铁
< 几点到 让你爸去接你
> 不用接 我自己打车
< 打啥子车 你爸闲得很
> 行吧
< 晚晴一起回来不
> 她回她家
> 明年再说
< 好嘛
< #语音
> 嗯嗯知道了

== 2024-02-08 16:05:33
< 到哪了
> 刚过重庆
> 还有一个多小时
< 好 家里炖了汤
< #图片
> 好

== 2024-02-18 22:14:51
< 到杭州没有
> 到了
> 刚到家
< 腊肉香肠放冰箱 莫放外面
> 嗯
< 豆包还认得你不
> 认得
> 一直蹭我
> #图片
< 咋个胖成这样了
> 哈哈哈哈 晚晴喂太多了
< 猫也要少吃点 跟人一样

== 2024-03-09 10:21:07
< 澈澈 你把身份证号发我一下
< 给你买个保险 你舅舅那边的
> 啥保险
> 公司有的
< 公司那个不够 意外险 一年几百块
> 行吧
> <<ID>>
< 收到
> 买之前给我看下条款
> 别被忽悠了
< 晓得了 你舅舅又不会坑你
> 嗯嗯

== 2024-03-23 12:30:44
< 你手机号是不是换了
< 我打你电话说是空号
> 没换啊
> 13867204519
> 是不是你存错了
< 我存的尾数是4591
> 最后两位反了
< 哎呀 老了老了
> 没有没有
> 改一下就好了
< 你们公司座机多少 万一打不通你
> 0571-86913527
> 前台的 一般别打哈
< 好 存起

== 2024-04-14 20:02:18
< #链接 春季养生：这三样东西千万别天天吃\n健康生活小贴士
< 你看一下
> 好
< 你们年轻人天天点外卖 油大
> 偶尔也做饭的
> 晚晴做饭好吃
< 那就好
< 苏晚晴那个姑娘是做什么的来着
> 设计师 做UI的
< 哦哦 设计好
< 你们两个好好的
> 嗯嗯

== 2024-05-12 09:15:40
> 妈 母亲节快乐
> #转账 转账 ¥1,000.00 给妈买点好吃的
> 给你转了1280元 还有一部分是上次的按摩仪
< 哎呀 又乱花钱
< 你自己留着用
> 收了嘛
> 不收我不高兴了
< 好好好 收了
< 儿子懂事了
< #动画表情

== 2024-06-02 21:40:12
< 澈澈 你睡了没
> 没
< 我手机上那个医保app弄不来
< 要登录
> 我远程帮你弄
> 你手机会收到一个验证码 发我
< 验证码 736204
< 是这个不
> 对
> 好了 登上了
> 下次直接点那个蓝色按钮就行
< 还是你厉害
> 哈哈哈哈 小事

== 2024-06-02 21:58:01
! #拍一拍 "妈妈" 拍了拍我
< 点错了
> 哈哈哈哈

== 2024-07-06 13:05:27
< 杭州热不热
< 新闻说四十度
> 热
> 还好公司有空调
< 骑车就莫骑了 中暑
> 早上骑 六点多
> 不热
< 那也要注意 带水
> 好
< #语音通话 语音通话\n通话时长 08:12

== 2024-08-26 19:30:05
< 中秋节回不回来
> 不回了 国庆回
> 国庆带晚晴一起
< 真的啊
< 太好了太好了
< 她喜欢吃啥子 我提前准备
> 她啥都吃 不太能吃辣
> 你别弄太多
< 晓得
< 苏晚晴是哪里人来着
> 苏州的
< 难怪 南方姑娘
> #消息撤回 你撤回了一条消息
> 你俩别搞得太隆重 她会紧张
< 好嘛好嘛

== 2024-09-10 18:45:37
< 给你寄点月饼和腊肉
< 地址发我
> 浙江省杭州市西湖区文三路388号枫桥小区3栋2单元601室
> 别寄太多 吃不完
< 你分给同事嘛
< 顺丰单号 SF1428573069214
< 你注意查收
> 好

== 2024-09-13 12:11:20
> 收到了
> #图片
> 月饼好吃
< 那就好
< 腊肉要挂起来 莫捂着
> 嗯嗯知道了

== 2024-09-28 22:30:49
< 几号的票
> 30号晚上到
> 8号回杭州
< 好 你爸说去接你们
> 这次可以接
> 东西多
< 哈哈 好
< 被子都晒好了
> 辛苦了妈

== 2024-10-08 22:05:10
< 到了没
> 到了
< 晚晴说啥没有
> 她说阿姨做的菜太好吃了
> 还说想豆包
< 哈哈哈 下次把猫也带来
> 猫坐不了高铁
< 那就你们来嘛
> 好
"""

# 老爸 — family. Fewer words on both sides. This chat is exported with the "2024/10/4 11:42" time style.
DAD = r"""
== 2024-02-05 08:12
< 儿子 几号到
> 8号 晚上七点多
< 好

== 2024-02-26 20:41
< #链接 退休之后，这几个习惯一定要坚持\n养生堂
> 好
< 最近忙不忙
> 还行
< 工作莫太拼了 身体要紧
> 嗯嗯

== 2024-04-21 11:05
< #图片
< 今天钓的
> 可以的 好大
< 三斤多
> 绝了
< 哈哈

== 2024-05-30 21:20
< 你妈说你想换自行车
< 我给你转点钱 微信转不了那么多
> 不用爸
> 我自己有钱
< 拿着 我和你妈商量好了的
< 卡号发我
> <<BANK>>
> 工行的
< 好 明天去银行
< #语音
> 谢谢爸

== 2024-06-01 10:33
< 转了 你查一下
> 收到了
> 爸你别老给我钱了
< 晓得

== 2024-07-20 19:02
< 你车子保养了没有
> 上个月保养了
< 好 夏天轮胎气压注意
> 嗯

== 2024-09-30 19:36
< 到出站口了
< 在3号门
> 好 马上出来
> #位置 纬度:【30.6273】 经度:【104.1418】\n位置：成都东站 出站口

== 2024-10-08 09:05
< 到杭州说一声
> 好
+11h
> 到了 一路顺利
< 好
"""

# 赵磊 — friends. College roommate, also in Hangzhou; the longest chat, exported as two page files.
ZHAOLEI = r"""
== 2024-02-11 23:48:02
< 新年快乐老林
< 红包呢
> 新年快乐磊子
> 红包没有 祝福管够
< 抠门
< #动画表情
> 哈哈哈哈哈
> 你在老家还是杭州
< 老家 天天被七大姑八大姨围攻
< 问我啥时候找对象
> 哈哈哈哈 你就说在找了
< 说了 没用
< 他们说你室友都谈了好几年了
< 说的就是你
> 卧槽 我躺着也中枪
> 关我啥事
< 你和苏晚晴啥时候结婚 我好准备份子钱
> emmm 还早
> 先把你自己的事搞定吧
< 扎心了老铁

== 2024-02-19 20:15:30
> 回杭州没
> 周三打球不
< 回了
< 打 必须打
< 过年胖了五斤 得练回来
> 哈哈哈哈 我也是
> 我妈天天喂
< 那就黄龙 老时间
> 可以的
> 我订场

== 2024-02-21 22:31:47
< 今天你那几个杀球绝了
< 吃啥了
> 哈哈哈哈 过年的腊肉
> 四川特供
< 第二局我腿抽筋 不然稳赢
> 拉倒吧 你第一局也输了
< 那是让你
< #动画表情
> 行吧 你说啥就是啥
> 下周继续
< 下周我要带新拍子 等着

== 2024-03-04 12:40:05
< 老林 你看那个新闻没
< #链接 某大厂服务器宕机两小时，用户无法登录\n科技早报
> 看了
> 不是我们
> 哈哈哈哈
< 我还以为又是你们
> 滚 我们上次是十分钟
< 那也是事故
> 你懂啥 那叫缓存雪崩
> 后来写了复盘 现在稳了
< 听不懂 反正就是你背锅
> 卧槽 不是我背锅
> 是我修的好吗
< 哈哈哈哈 好好好 林工牛逼

== 2024-03-15 21:02:44
< 周末干嘛
> 周六骑车 去九溪
> 一起不
< 几点
> 早上六点半
< 告辞
< 我周末要睡到中午
> 哈哈哈哈 懒
> 你那辆车都吃灰了吧
< 吃灰两年了
< 要不卖给你
> 不要 你那车是个铁疙瘩
< 绝了 当年八百块买的宝贝
> 八百块还宝贝
> 你对宝贝有什么误解

== 2024-03-16 09:48:13
> #图片
> 九溪
> 今天人少 爽
< 卧槽 你真去了
< 我刚醒
> 哈哈哈哈 废物
< #拍一拍 "赵磊" 拍了拍我
< 拍死你

== 2024-03-27 19:12:09
< 老林 救命
< 我电脑开不了机
> 啥情况
< 按电源没反应 灯都不亮
> 电源线插好没
< 插了
> 插座有电没
< …
< 插座开关没开
> 哈哈哈哈哈哈哈
> 绝了
> 这是我今年听过最好笑的bug
< 别告诉别人
> 晚了 我已经在想发群里了
< 你敢

== 2024-04-06 15:22:55
< 黑神话好像八月出
< 到时候一起
> 必须的
> 我已经想好请两天假了
< 哈哈哈哈 你们王经理同意吗
> 他不知道
> 我就说身体不舒服
< 骗子
> 技术性病假
< 绝了

== 2024-04-13 22:05:31
< #视频
< 你看我这个杀球
> 卧槽
> 这是你？
< 必须是我
> 角度可以的
> 但是你这个步伐
> 我看着都累
< 你懂啥 这叫个人风格
> 个人风格就是每次都慢半拍
< 滚
< #动画表情

== 2024-04-26 18:30:17
< 五一去哪
> 和晚晴去千岛湖
> 你呢
< 宅家打游戏
< 顺便帮你喂猫？
> 不用 晚晴她闺蜜来喂
> 谢了哈
< 行吧 我这个工具人都不用了
> 哈哈哈哈 下次一定

== 2024-05-08 23:10:42
< 老林 我问你个事
< 你当时咋追到苏晚晴的
> 卧槽 你有情况
< 没有 就问问
> 你这个没有 很有情况
> 说
< 就公司新来的一个妹子
< 也打羽毛球
> 那还等啥
> 约打球啊
> 你唯一的优势就是羽毛球了
< 你这话说的
< 我还有颜值
> 哈哈哈哈哈哈哈
> 这个笑话可以的
> 认真说 约她周三来我们那局
> 晓雨也在 不尴尬
< 有道理
< 我试试

== 2024-05-15 22:48:05
< 她来了！
< 你看到没
> 看到了 还挺厉害
> 反手比你好
< 闭嘴
< 你觉得她对我有意思没
> emmm
> 她全程在跟晓雨聊天
< …
> 开玩笑的
> 她最后问你下周还打不打
> 这就是信号
< 真的？？
> 真的 稳了
< 老林你是我亲哥

== 2024-05-27 21:35:51
> 我QQ号 2874519630
> 大学那个群你拉我一下
> 我那个老号密码忘了
< 你要干嘛
> 晚晴想看我大学照片
> 群相册里有
< 哈哈哈哈哈 你确定
< 里面有你军训那张
> 卧槽
> 那张删了没
< 没删 我还设成了封面
> 赵磊你完了
< #GIF

== 2024-06-05 12:18:36
< 618买拍子不
< 天斧新款降价了
> 多少
< ¥1,399 原价1699
> 可以的
> 我上个月刚买了个新的 不买了
< 那我买了
< #图片
< 订单号 240618203311457293
< 已下单 坐等
> 冲
> 就怕你买了新拍子也打不过我
< 等着瞧

== 2024-06-14 20:05:27
< 拍子到现在还没发货
> 催啊
< 催了 客服说618单子太多
> 正常
> 我之前买那个磨豆机等了十天
< 你又买磨豆机了？
> 换了个好的
> ¥2,399
< 卧槽 磨个豆子两千四
> 你不懂
> 磨豆机比咖啡豆重要
< 我确实不懂
< 我喝速溶
> 速溶也挺好 哈哈哈哈
> 下次来我家给你冲一杯 让你开开眼

-- PAGE --

> 保证你喝完就回不去了
< 行 你等着 我周末就来
< 顺便撸猫
> 可以的 豆包最近脾气不好 小心点
< 它上次咬我那口还没好
> 哈哈哈哈 那是你先动手的

== 2024-06-15 15:40:20
< 到你楼下了
> 上来 3栋
> WiFi密码 doubao2021
< 你家猫给我让个道
> 豆包今天心情好 放心

== 2024-06-15 19:22:04
< 今天那个咖啡确实可以
< 有点水果味
> 我就说吧
> 那是埃塞的豆子 日晒的
< 听不懂但是好喝
> 哈哈哈哈 这就够了

== 2024-07-03 21:49:08
< 欧洲杯你看没
> 看了 昨晚熬到三点
< 卧槽 你不是第二天要上班
> 上了 在工位上睡了半小时
> 王经理路过看了我一眼
< 哈哈哈哈哈 然后呢
> 然后我假装在思考架构
< 绝了
< 你这演技可以拿奖

== 2024-07-18 22:10:31
< 老林
< 我跟她在一起了
> 卧槽！！！
> 真的假的
> 恭喜恭喜
< 真的 今天表白的
> 可以的啊磊子
> 我说啥来着 稳了
< 主要是你那招好使
> 哪招
< 约打球啊
> 哈哈哈哈 我真是个天才
> 请吃饭
< 请请请 周末火锅
> 我要带晚晴一起
< 那必须

== 2024-07-21 21:03:44
< 今天那家火锅可以吧
> 绝了
> 就是没我们成都的辣
< 你们成都人就没有觉得辣的东西
> 有 你的恋爱酸臭味
< 滚
< #动画表情
> 晚晴说你女朋友人很好
> 让你好好对人家
< 知道知道

== 2024-08-02 23:55:19
< 郑思维黄雅琼 金牌！！！
> 看了看了
> 卧槽 太稳了
> 我在沙发上喊得豆包都吓跑了
< 哈哈哈哈哈
< 我也是 楼下邻居敲门了
> 绝了
> 这个周三我要打混双
< 你跟谁打
> 晓雨啊
> 你跟你女朋友一组
< 好好好

== 2024-08-06 12:55:40
> #合并转发 阿澈和陈思远的聊天记录\n陈思远: 周五上线\n阿澈: 稳了
> 发错了
> 不好意思
< 哈哈哈哈 你们上班聊天这么简单
> 我们程序员话少
< 你跟我话可不少
> 那是因为你话多

== 2024-08-19 22:41:55
< 明天黑神话！
> 我已经请好假了
> 这次是真请的 年假
< 哈哈哈哈 你们王经理没问？
> 问了 我说家里有事
> 家里确实有事 要打游戏
< 绝了
< 明天早上十点解锁
> 我九点就坐电脑前
< 卡了的话你就完了
> 显卡上个月刚换 稳了

== 2024-08-20 14:12:39
< 第一个boss你过了没
> 过了
> 死了七次
< 我死了十二次
> 哈哈哈哈哈 菜
< 你去打广智试试
> 广智我三次就过了
< 吹
> #视频
> 自己看
< 卧槽 这个闪避
< 行 你牛

== 2024-08-24 01:12:08
< 还在打？
> 嗯 卡在虎先锋了
> 这个老虎是真的离谱
< 我昨天打了两个小时才过
> 有啥技巧
< 别贪刀
> 我就是忍不住
< 你打球也这样
> 行吧
> 被你说中了

== 2024-09-11 20:26:33
< 老林 问你个事
< 你做饭那个锅哪买的
> 哪个锅
< 上次做红烧肉那个
> 铸铁锅 淘宝的
> 你要干嘛
< 想给她做顿饭
> 哈哈哈哈 可以的
> 先练练 别炸厨房
< 你看不起谁
> 看不起你
> 你上次煮泡面把锅烧穿了
< 那是大一的事了！
> 大一的事我记一辈子

== 2024-09-25 18:40:02
> 国庆我和苏晚晴回成都
> 见我爸妈
< 卧槽 见家长了
< 进度可以啊
> 嗯 有点紧张
> 不过我妈已经准备了一个礼拜了
< 哈哈哈哈 阿姨比你还紧张
> 那几天豆包能帮我喂下不
> 晚晴闺蜜也出去玩了
< 工具人终于上线了
< 没问题
> 门锁密码发你 到时候
> 猫粮在鞋柜上面
> 一天一次 水换一下就行
< 收到 林总

== 2024-09-30 07:20:16
> 出发了
> 门锁密码 482915
> 豆包拜托了
< 放心 每天给你发照片

== 2024-10-02 19:30:47
< #图片
< 你家主子吃得很香
> 哈哈哈哈 谢了磊子
> 它没咬你吧
< 咬了 我习惯了
< 见家长咋样
> 还行
> 我爸全程在给她夹菜
> 晚晴碗里堆成山了
< 哈哈哈哈哈哈
> 我妈拉着她看我小时候照片
> 我还没来得及拦
< 报应 你看我群相册那张
> 行吧 扯平了

== 2024-10-09 22:18:36
< 回来了？
> 回来了
> 豆包好像胖了
< 不关我事 我按你说的喂的
> 你是不是喂了罐头
< …
< 就两个
> 哈哈哈哈 难怪
> 谢了兄弟 周三球馆请你喝水
< 就一瓶水？
> 两瓶 不能再多了
"""

# 苏晚晴 — partner. Plans, the cat 豆包, a lot of teasing.
WANQING = r"""
== 2024-02-14 08:30:11
> 情人节快乐
> 晚上订了那家意大利菜 七点
< 哇 你居然记得
< 我以为你又要说"情人节就是商家的节日"
> 哈哈哈哈 去年说过一次被你记到现在
< 当然记得
< 七点我从公司直接过去
> 好 我先到了占位置

== 2024-02-14 22:47:35
< 今天好开心
< 那个提拉米苏绝了
> 下次还去
> 不过你那个礼物我还没拆
< 回家再拆！
> 好好好
> 拆了
> 卧槽 这个磨豆机刷
> 我好喜欢
< 看你上次在店里摸了十分钟
> 你观察得好仔细
< 哼

== 2024-02-25 12:05:52
< 豆包今天吐了
< #图片
> 又吃草了吧
> 上次也是
< 对 它把我那盆绿萝啃了
> 绿萝有毒啊
> 我查一下
> 问题不大 吐出来就好
> 那盆挪阳台吧
< 好 吓死我了
> 没事的 它壮得很

== 2024-03-06 23:15:27
< 还在公司吗
> 在 线上出问题了
> Redis挂了一片
< 严重吗
> 已经恢复了 在写复盘
> 你先睡
< 你吃饭没
> 吃了个面包
< 你又这样
> 明天补回来
> 明天带你吃烤肉
< 这还差不多
< 早点回家
> 嗯嗯

== 2024-03-07 01:42:18
> 到家了
> 豆包在门口等我
> #图片
> 感动
< #消息撤回 "苏晚晴" 撤回了一条消息
< 你快睡
> 你撤回了啥
< 没啥 打错字了
> 我看到了
> "想你"
< 你没看到！
> 哈哈哈哈 晚安

== 2024-03-17 10:22:49
< 门锁密码你是不是改了
< 我按了三次没开
> 啊对 上周改了
> 新密码是 482915
< 你都不跟我说
> 我错了 我的锅
< 豆包在门里面叫
< 它在嘲笑我
> 哈哈哈哈 它在欢迎你

== 2024-04-02 19:33:07
< 这周末去哪玩
> 西溪湿地？
> 听说花开了
< 好呀
< 我带相机
> 我骑车过去找你
> 你坐地铁
< 你又要骑车
> 就二十公里 热身
< 随便你
< 晒黑了别找我
> 哈哈哈哈 晒黑了也帅

== 2024-04-06 17:12:40
< #图片
< 今天这张我拍得最好
> 绝了
> 你这构图 专业的就是不一样
< 那当然
< 你这张闭眼了
> 那张删了
< 不删 留着做表情包
> 行吧

== 2024-04-28 21:08:14
< 千岛湖的酒店订好了吗
> 订好了 湖景房
> 5月1号到3号
< 哇
< 多少钱
> 不告诉你
< 说嘛
> ¥1,680 三晚
> 五一嘛 贵一点
< 那我请你吃饭
> 可以的
< 豆包给小鹿喂 我已经跟她说了
> 好 谢谢小鹿

== 2024-05-01 11:30:42
< #位置 纬度:【29.6050】 经度:【119.0327】\n位置：千岛湖 中心湖区码头
< 我在这
> 马上到 停车了
< 快点 船要开了
> 跑起来了

== 2024-05-20 12:00:00
> 520快乐
> #转账 转账 ¥520.00 520快乐
< 哈哈哈哈哈 好土
< 但是我收了
> 土就土 心意到了
< #动画表情

== 2024-06-08 20:18:33
< 豆包该打疫苗了
< 下周六你有空吗
> 有
> 上午去？
< 嗯 十点 我约了
> 好 我带它过去
> 医院门口见
< 它上次在医院叫得整栋楼都听到了
> 哈哈哈哈 它的高光时刻

== 2024-06-15 12:44:10
< 豆包到家了吗
< 还生气不
> 生气 躲床底下了
> 晚上给它开个罐头
> 哄一哄
< 你就知道惯着它
> 你也惯着
< …好吧

== 2024-06-22 22:36:25
> 今天我们那个项目上线了
> 一次过
< 厉害！
> 我们组请了奶茶
> 王经理说下半年可能要我带人
< 哇 升职了？
> 还没 别声张
< 好好好 林组长
> 哈哈哈哈 别闹

== 2024-07-09 07:02:31
> 早上骑了四十公里
> #图片
> 钱塘江边 日出
< 你几点起的
> 五点
< 疯了
< 不过照片好看
> 下次带你
< 不要 我要睡觉
> 哈哈哈哈 行吧

== 2024-07-25 18:20:44
< #引用 今晚吃啥
> 你想吃啥
< 不知道
> 火锅？
< 昨天吃了
> 日料？
< 太贵了
> 那面？
< 也行吧
> 每次都是我猜
< 你猜得好嘛
> 哈哈哈哈 那去巷口那家拌川
< 好！

== 2024-08-03 23:02:19
< 你们昨晚看混双决赛了吗
< 赵磊在朋友圈喊疯了
> 看了 我也喊了
> 豆包被吓到床底下了
< 哈哈哈哈 可怜的豆包

== 2024-08-10 10:15:58
> 七夕快乐
> 晚上我做饭
< 你做？
< 我有点害怕
> 相信我
> 我练了两周了
< 练啥
> 红烧肉 番茄炒蛋 还有你最爱的可乐鸡翅
< 可乐鸡翅！
< 好 我七点到

== 2024-08-10 21:40:07
< 今天的红烧肉真的绝了
< 你是不是偷偷报班了
> 哈哈哈哈 b站大学
> 你喜欢就好
< 喜欢
< 就是厨房有点惨
> 我明天收拾

== 2024-08-17 16:30:12
< 下周三我生日你记得吧
> 当然
> 那天我请了半天假
< 哇
< 要干嘛
> 保密
< 说嘛
> 不说 说了就没惊喜了
< 哼
< #GIF

== 2024-08-21 22:55:30
< 今天真的好开心
< 那个手作的陶艺课太好玩了
< 我做的杯子好丑哈哈哈
> 丑萌
> 烧出来以后我每天用它喝咖啡
< 你说的哦
> 我说的
> 生日快乐 晚晴
< 爱你
> 我也是

== 2024-09-02 19:48:30
< 国庆去成都
< 我有点紧张
> 别紧张
> 我妈已经开始研究你爱吃什么了
< 啊？？
< 你跟她说了啥
> 我说你不能吃辣
> 她说那就做点不辣的
> 我爸说要带你去钓鱼
< 哈哈哈哈 叔叔好可爱
< 那我带点什么过去
> 不用带
< 不行 必须带
> 那就带点龙井吧 我爸喜欢喝茶
< 好

== 2024-09-18 21:10:26
< 高铁票买好了吗
> 买好了 30号早上八点半
> 我帮你选了靠窗
< 好 谢谢澈澈
< #语音通话 语音通话\n通话时长 23:47

== 2024-10-03 22:30:16
< 你妈妈好热情
< 今天又给我夹了一碗肉
> 哈哈哈哈 我妈就这样
> 她喜欢你
< 你爸还教我钓鱼了
< 我钓了一条
> 我知道 他在家族群发了十张照片
< 啊啊啊
> 标题是"儿媳妇钓的"
< 救命
> 哈哈哈哈哈

== 2024-10-12 19:06:51
< 下周末我们去哪
> 在家吧 陪豆包
> 它好像生气我们出去那么久
< 对 它今天都不理我
> 给它买了个猫爬架
> 明天到
< 你又乱花钱
> 给儿子花钱不算乱花
< 哈哈哈哈 好吧
"""

# 王经理 — colleagues (his manager). He keeps it short.
BOSS = r"""
== 2024-02-26 09:05:12
< 小林 今天下午两点开个会 Q1规划
> 收到
< 你准备一下订单服务的现状 十分钟左右
> 好的王总

== 2024-03-06 21:32:40
< 线上怎么回事
< 首页好多超时
> 在查了
> 缓存集中过期 请求都打到DB了
> 十分钟内恢复
< 好 随时同步
> 好的
+12m
> 王总 已恢复
> 一批热点key同一时间过期 DB连接池打满了
> 明天出复盘
< 辛苦 明天上午十点前给我
> 收到

== 2024-03-07 09:48:21
> #文件 订单服务缓存雪崩事故复盘.docx
> 王总 复盘文档发您了
< 看了 写得清楚
< 过期时间加随机那个 其他服务也排查一下
> 好的 这周内排查完
< 嗯

== 2024-04-15 14:20:33
< 支付对账那个需求 4月30号前能上吗
> 有点紧 我评估一下
+40m
> 王总 排期发您了
> #文件 支付对账排期_v2.xlsx
> 4月29号提测 5月6号上线
< 五一前不行？
> 五一前上风险大 对账出错要赔钱的
> 节后第一天上 稳一点
< 行 按你的来
> 好的

== 2024-05-06 18:02:55
> 王总 对账上线了 数据核对无误
< 好 辛苦
< 这周末你值班
> 收到

== 2024-06-19 10:11:40
< 下周三述职 准备个PPT 十五分钟
> 好的王总
< 重点讲下缓存治理和对账
> 收到

== 2024-06-22 20:30:18
< 今天上线顺利 辛苦大家
< 奶茶我请 你统计一下
> 好的 谢谢王总

== 2024-07-01 09:30:05
< 小林 下半年组里来个应届生 你带一下
> 好
< 你和思远一起 把新人培训的文档整理一下
> 收到 这周给您初稿
< #语音通话 语音通话\n通话时长 06:31

== 2024-08-19 16:47:22
> 王总 明天想请一天年假
> 家里有点事
< 好 工作交接好
> 好的 已经交接给思远了

== 2024-09-05 11:15:30
< 双十一大促的压测 9月底前完成 你牵头
> 收到
> 需要DBA那边配合 我拉个群
< 好
< 目标是平时峰值的五倍
> 好的王总

== 2024-09-12 17:40:11
> 王总 国庆后想请一天假 10月8号
> 回成都 票不好买
< 可以 提前排好值班
> 好的 谢谢王总

== 2024-09-27 19:20:44
> 王总 压测报告发您了
> #文件 2024双十一压测报告.pdf
> 五倍峰值下P99在120ms以内 稳了
< 很好
< 节后跟我过一下
> 好的
"""

# 陈思远 — colleagues (teammate). Code review, bugs, lunch; plenty of English words.
SIYUAN = r"""
== 2024-02-27 10:02:31
< #添加好友 我是陈思远，新来的后端
! #系统通知 你已添加了陈思远，现在可以开始聊天了。
> 欢迎欢迎
> 我是林澈 叫我阿澈就行
< 阿澈好 王总说让我跟你熟悉下订单服务
> OK 我下午带你过一遍代码
> 先把repo权限申请了
< 好的 已经提了
> 👌

== 2024-03-01 16:35:12
< 阿澈 我那个PR你有空review一下吗
< PR #1423
> 看了
> 整体OK
> 有两个小问题 我在PR里留comment了
< 好 我看看
> 主要是那个for循环里面查DB
> N+1了
< 啊 我改成批量查
> 对 改完ping我
< 改好了
> LGTM 合了

== 2024-03-06 21:28:47
> 思远 线上告警了 你在吗
< 在 看到了
< 首页接口大量timeout
> Redis命中率掉到20%了
> 你看下是不是那批商品缓存一起过期了
< 是的 全是昨晚9点20写进去的 TTL都是24小时
> 卧槽 就是它
> 先加锁限流 我去把DB连接池调大
< 好
+9m
< 恢复了 QPS回来了
> 稳了
> 明天把TTL加个随机 再加个互斥锁
< OK 我来写
> 辛苦了 早点回

== 2024-03-08 11:50:03
< 中午吃啥
> 楼下那家黄焖鸡？
< 又是黄焖鸡
> 那你说
< 新开那家越南粉
> 可以的 走

== 2024-03-20 15:12:46
< 这个bug好奇怪
< 本地跑没问题 测试环境就挂
> 报啥错
< #图片
> 时区
> 测试环境容器是UTC
< 啊 对
> 你看那个时间戳 1718006400 转出来差了8小时
> 统一用UTC存 展示的时候再转
< 明白了 谢谢
> 这个坑我踩过三次 哈哈哈哈

== 2024-04-09 10:40:19
< 阿澈 我们真要把对账服务改成Go吗
> 王总同意了
> 先拿对账这个小服务试水
< 我Go不太熟
> 没事 很快的
> 我周末写个入门的doc给你
< 好 感谢
> 先看Tour of Go 一个下午就够了
< #链接 A Tour of Go\ngo.dev/tour
< 是这个吗
> 对

== 2024-04-16 20:22:08
< 阿澈 goroutine泄露是不是就是这种
< #图片
> 对 channel没人读 一直卡在那
> 加个context 超时就退出
< 懂了
> 然后跑一下goleak 测试里加上
> 以后就不会漏了
< OK

== 2024-04-29 18:05:44
> 对账提测了吗
< 提了 QA在跑
> 好 有问题随时叫我
> 我今晚在
< 好的

== 2024-04-29 22:41:30
< QA说有一笔对不上
> 金额多少
< 差了一分钱
> 卧槽 浮点数
> 你是不是用float64算的金额
< …是
> 改成用分 int64
> 钱永远别用浮点
< 学到了 马上改

== 2024-05-17 14:33:07
< 下周我值班 有事怎么找你
> 直接打我电话
> 138 6720 4519
> 微信可能看不到
< 好 存了

== 2024-06-03 09:58:15
< #合并转发 产品群的聊天记录\n产品小周: 这个需求能不能今天上？\n产品小周: 老板很急
< 你看这个
> emmm
> 今天上不了 PR都还没review
> 你跟她说最快周三
< 好 我去说
> 别怕 有问题我扛

== 2024-06-20 17:15:09
< flaky test又挂了
> 哪个
< TestReconcile_Concurrent
> 那个是时序问题
> sleep不靠谱 改成等channel
< 好
< 阿澈你为啥啥都知道
> 因为啥坑我都踩过
> 哈哈哈哈

== 2024-07-04 13:20:55
< 新人下周一来
< 培训文档你那边写到哪了
> 写了一半
> 你把本地环境搭建那部分补上
< OK
> 我把文档发你私人邮箱吧 公司邮箱附件太大了
< 好 你发哪个
> 我的是 lin.che.dev@example.com
> 你回个邮件我就有你地址了
< 好的 已回

== 2024-07-15 11:42:36
< 新人挺猛的 第一天就提了PR
> 可以的
> 你review一下 我先看线上那个慢查询
< 好
< 她写的比我当时好
> 哈哈哈哈 别这么说
> 你当时也很好 就是N+1

== 2024-08-06 12:52:10
< 周五上线？
> 稳了
< #动画表情

== 2024-08-19 17:05:42
> 思远 明天我请假
> 对账服务有事你先顶着
> 告警群我拉你进去了
< 没问题 放心打游戏
> 卧槽 你怎么知道
< 全公司都知道今天黑神话上线
> 哈哈哈哈 行吧 别告诉王总

== 2024-08-22 10:20:14
< 阿澈 你游戏打到哪了
> 第二回
> 虎先锋打不过
< 我也卡那
> 绝了 整个组都卡在老虎那
> 下班一起研究

== 2024-09-06 15:30:50
> 压测方案我写了个初稿
> #文件 双十一压测方案v1.md
> 你看看有没有漏的
< 看了 缺一个Redis的
> 对 加上
> 这次把上次雪崩那个场景也压一下
< 好
< 要不要用chaos把一个节点kill掉
> 可以的 好主意
> 周三凌晨做 避开高峰

== 2024-09-19 02:14:33
< 压完了
< 五倍峰值 P99 118ms
> 绝了
> Redis那个节点挂了以后呢
< 自动切了 抖了两秒
> 稳了
> 快回家睡觉
< 你也是
> 收到 晚安

== 2024-10-10 10:05:41
> 回来了
> #图片
> 成都特产 在你桌上
< 哇 谢谢阿澈
< 兔头！
> 哈哈哈哈 尝尝 不辣的那种
< 见家长顺利吗
> 你怎么也知道
< 赵磊说的
> 他怎么认识你
< 球馆认识的啊
> 行吧 杭州太小了
"""

# 羽毛球小分队 — group. Wednesday night badminton; 周晓雨 books the courts. "2024/3/6 20:15" time style.
GROUP = r"""
== 2024-02-19 21:10
! #系统通知 "周晓雨"修改群名为"羽毛球小分队"
< 周晓雨: 新年第一场 周三晚上黄龙 八点到十点
< 周晓雨: 老规矩 来的接龙
< 赵磊: 1
> 2
< 刘洋: 3 但是我可能晚点到
< 孙浩: 4
< 周晓雨: 好 订两片场
> 我来带球
> 上次那筒还剩一半

== 2024-02-21 22:25
< 周晓雨: 今天场地费 ¥270 六个人每人45
< 周晓雨: #图片
< 孙浩: #转账 转账 ¥45.00
> 已转
< 赵磊: 已转 今天阿澈那几个杀球我服
> 哈哈哈哈 过年吃胖了 重量加成
< 刘洋: 绝了 我以为我接得住
< 刘洋: 结果球从我耳边飞过去
< 孙浩: #动画表情

== 2024-03-13 19:05
< 刘洋: 今晚谁开车 我腿伤了骑不了车
> 我开
> 白色的 浙A·5R2M8 七点半在地铁口等
< 刘洋: 好嘞 谢谢澈哥
< 周晓雨: 腿伤了还来打？
< 刘洋: 来看 当裁判
< 赵磊: 裁判别偏心

== 2024-03-27 20:02
< 赵磊: 我给大家讲个笑话
> 赵磊你敢
< 赵磊: 有个人电脑开不了机 查了半小时 插座没开
< 周晓雨: 哈哈哈哈哈 这人是谁
> 是赵磊自己
< 赵磊: 阿澈你这个叛徒
< 孙浩: 笑死
< 刘洋: #GIF
> 他还让我别告诉别人
> 我信守承诺了 是他自己说的
< 赵磊: 行吧

== 2024-04-10 21:58
< 孙浩: 今天的球太卷了
< 孙浩: 阿澈你是不是偷偷报班了
> 没有 就是周末多骑了几次车
> 腿有劲了
< 周晓雨: 骑车还能练羽毛球？
> 可以的 步伐快多了
< 周晓雨: 那我也去骑
> 周六九溪 六点半 来
< 周晓雨: 六点半？？算了

== 2024-05-14 18:30
! #邀请加群 "赵磊"邀请"吴婷"加入了群聊
< 赵磊: 欢迎吴婷 我同事 打得很好
< 吴婷: 大家好 请多指教
> 欢迎欢迎
< 周晓雨: 欢迎！周三晚上八点黄龙 一起来
< 孙浩: 欢迎 终于有人能治赵磊了
< 吴婷: 哈哈哈 我水平一般
> 赵磊说你反手很好
< 赵磊: 我没说
> 你说了
< 刘洋: 赵磊脸红了
< 赵磊: #拍一拍 "赵磊" 拍了拍 "阿澈"
> 哈哈哈哈

== 2024-05-15 22:20
< 吴婷: 今天打得好开心 谢谢大家
< 周晓雨: 下周继续！
> 下周三见
< 赵磊: 下周三我带水
> 赵磊终于大方了一回

== 2024-06-05 21:40
< 周晓雨: 大家看下 杭州业余联赛九月开始报名了
< 周晓雨: #链接 2024杭州业余羽毛球联赛报名通知\n团体赛 每队6-8人
< 周晓雨: 我们要不要组个队
< 孙浩: 报！
> 报 我打男双
< 刘洋: 我腿好了 我也报
< 赵磊: 我跟吴婷混双
< 孙浩: 哦～～
< 刘洋: 哦～～～
> 哦～～～～
< 赵磊: 你们够了
< 周晓雨: 好 我去报名 队名叫啥
> 小分队 简单
< 孙浩: 周三不加班队
< 刘洋: 哈哈哈哈 这个好
< 周晓雨: 就叫周三不加班了

== 2024-07-17 20:50
< 孙浩: 这周三好热 球馆空调坏了
< 周晓雨: 我问了 修好了
> 稳了
< 刘洋: 上周真的是在蒸桑拿
> 我衣服能拧出一盆水
< 吴婷: #图片
< 吴婷: 给大家带了绿豆汤 冰的
< 孙浩: 吴婷天使
> 可以的 今天我请大家喝水
< 赵磊: 阿澈请喝水 这是新闻

== 2024-07-24 22:15
< 周晓雨: 今天的照片
< 周晓雨: #图片
< 周晓雨: #图片
< 刘洋: 我怎么又是闭眼
> 哈哈哈哈 你每张都闭眼
< 孙浩: 刘洋的传统艺能

== 2024-08-02 23:58
< 孙浩: 金牌！！！！
< 刘洋: 郑思维黄雅琼！
> 卧槽 太稳了
> 三局都没给机会
< 周晓雨: 哭了
< 赵磊: 下周三我们也混双
< 吴婷: 好呀
< 孙浩: 又来了
> 下周三我跟晓雨打混双 赵磊你俩等着
< 周晓雨: 好 让他们见识一下
< 赵磊: 来啊

== 2024-08-05 09:20
< 孙浩: 安赛龙卫冕了 男单是真的没办法
> 他太稳了 一个失误都没有
< 刘洋: 身高臂长 我们比不了
> 我们跟他唯一的共同点是都用羽毛球
< 周晓雨: 哈哈哈哈 扎心

== 2024-09-04 19:40
< 周晓雨: 联赛赛程出来了 我们第一场9月14号下午两点
< 周晓雨: #文件 2024联赛赛程.pdf
> 对手是谁
< 周晓雨: 滨江飞羽 听说很强
< 刘洋: 完了
> 怕啥 输了就当练球
> 赢了就请吃烧烤
< 孙浩: 这个好
< 赵磊: 我这两周天天加练
> 你加练的是王者还是羽毛球
< 赵磊: 都有

== 2024-09-14 17:30
< 周晓雨: 3比2！！！我们赢了！
< 孙浩: 卧槽 赢了
< 刘洋: 阿澈最后那场男双绝了
> 哈哈哈哈 是孙浩网前封得好
> 我就负责杀
< 赵磊: 我和吴婷的混双也赢了
< 吴婷: 赵磊今天发挥超常
> 谈恋爱的人运气好
< 赵磊: 别瞎说
< 周晓雨: #位置 纬度:【30.2721】 经度:【120.1301】\n位置：文三路 老地方烧烤
< 周晓雨: 七点 烧烤 阿澈说的
> 说好的 我请第一轮

== 2024-09-14 22:40
< 孙浩: 今天太开心了
< 孙浩: #视频
< 刘洋: 阿澈唱歌那段删了吧
> 删 必须删
< 赵磊: 我已经存了
> 赵磊你完了
< 周晓雨: 哈哈哈哈哈
< 吴婷: #GIF

== 2024-09-28 13:10
< 周晓雨: 第二场在国庆后 10月19号
< 周晓雨: 国庆大家都去哪
> 回成都
< 刘洋: 去大理
< 孙浩: 在家躺平
< 赵磊: 帮阿澈喂猫
> 哈哈哈哈 工具人
< 周晓雨: 国庆后第一个周三恢复训练 别吃太胖

== 2024-10-09 21:05
< 周晓雨: 今天来了几个？
> 我回来了 来
< 孙浩: 来
< 刘洋: 我晒黑了 来
< 赵磊: 来 我最近瘦了 天天喂猫走路
> 你喂猫是开车去的
< 赵磊: #动画表情
< 吴婷: 我也来
< 周晓雨: 好 六个人 订两片
> 可以的 我带球
"""

# Telegram: Maya Chen, met at a conference in Shanghai in May 2024, then a small open-source project together.
# Script: "> text" me, "< text" Maya; "~" right after the marker makes it a reply to the other side's last
# message; [link:…] [bold:…] [mention:…] [email:…] [phone:…] [code:…] make the text an entity list;
# "#photo WxH", "#sticker 😂", "#voice SECONDS", "#fwd SOURCE | text", "! #call ACTOR SECONDS",
# "! #pin ACTOR N" (pins the message N rows back).
MAYA = r"""
== 2024-05-18 22:41:07
< Hey Lin! It's Maya, from the rate limiting talk 👋
< Great meeting you today
> hey Maya! haha yes
> your talk was really good, the token bucket part especially
< Thanks!! Your question about cache stampedes was the best one
> lol because I caused one in March
> long story
< Now I need to hear this story
> ok ok short version: a few thousand hot keys, same TTL, all expired at 9:20pm
> db went 💀
< that's wild
< jitter?
> jitter + a mutex per key now. 稳了, as we say here
< what does that mean?
> like... "stable", "we're good" lol
< wen le. Got it 😄
> #photo 1280x960
> from the dinner
< haha I look so tired
> everyone looked tired, it was 11pm

== 2024-05-25 16:03:40
< Remember the idea about adaptive limits? I started a repo this morning
< it's tiny for now, it wraps [link:https://pkg.go.dev/golang.org/x/time/rate] and adds a Redis store
> deal, I'm in
> I can take the Redis backend
< perfect. send me the email you use for GitHub and I'll invite you
> [email:lin.che.dev@example.com]
< invited!
> got it, thanks

== 2024-06-01 21:15:22
> first PR is up
> it's big sorry lol
< ~haha it's ok, I'll look tomorrow morning, it's 3pm here and I'm in meetings all day
> no rush
> Berlin time is confusing, I keep thinking you're asleep
< I'm always half asleep anyway
< #sticker 😴

== 2024-06-02 14:40:51
< ok reviewed. mostly great
< one thing: please [bold:don't] call Redis inside the hot path without a timeout
> ok ok fair
> I'll add a context deadline
< and the Lua script, can we keep it under 20 lines?
> lol it's 34 lines now
> I'll try
< #voice 38
> haha got it, the part about EVALSHA makes sense
> will fix tonight

== 2024-06-12 22:05:19
< design doc for v0.2, would love your eyes on it: [link:https://docs.example.com/d/adaptive-limits-v02]
> reading now
> ok this is nice
> the feedback loop part reminds me of TCP congestion control
< that's exactly where I stole it from 😂
! #pin Lin 5
> pinned so I don't lose it

== 2024-06-29 10:12:47
< random question, what coffee do you drink? you mentioned pour-over at the dinner
> oh no you opened the door
> right now an Ethiopian natural, light roast, 15g to 240g water
> I just bought a new grinder, it cost more than my first bike lol
< hahaha that's wild
< I only have an aeropress
> aeropress is great! no shame
> 1:15, 2 min, press slowly. deal?
< deal, I'll try tomorrow

== 2024-07-14 19:33:02
< update: the aeropress recipe is 🔥
> told you
< also the Redis backend got our first external user!
< someone from [mention:@arjun_dev_sg]'s team is running it in staging
> wait really
> that's wild
> ok now I'm nervous lol
< haha it's staging, relax

== 2024-08-02 18:20:14
< Are you watching the Olympics? I saw on the news there was a big badminton final
> YES
> China won the mixed doubles, my whole friend group is screaming in our chat
> I play every Wednesday, we're joining an amateur league in September
< so cool. I played a bit in school, I was terrible
> everyone is terrible at the start haha

== 2024-08-13 23:58:31
< #fwd Gopher Digest | Go 1.23 is released! Range-over-func iterators are now on by default, plus timer changes in the runtime.
< should we use iterators for the store scan?
> hmm maybe, but let's keep go 1.21 support for a while
> lots of people at my company are still on 1.21
< fair

== 2024-08-20 09:45:55
< Why is everyone on Chinese twitter talking about a monkey
> LOL
> Black Myth: Wukong came out today
> half my office took a day off, including me
< hahaha no way
> I told my boss it was family stuff
> technically the monkey is family now
< 😂😂😂

== 2024-08-27 20:30:09
! #call Maya 1260
< thanks for the call! I think the plan is clear
> yep. I'll do the sliding window bench this weekend
< and I'll write the README

== 2024-09-01 22:10:44
> bench results: [code:BenchmarkAllow-16  12.4M  96 ns/op]
> without Redis obviously lol
> with Redis it's network bound, ~0.3ms
< that's really good
< ship it?
> ship it
< #sticker 🚀

== 2024-09-10 17:22:38
< Big news: I'm coming to Hangzhou in October for a team offsite!
< maybe we can finally do that pour-over?
> no way!! yes of course
> when?
< Oct 21-25
> perfect, I'm back from Chengdu by then
> if messages don't work, just call me: [phone:+86 138 6720 4519]
< saved 👍

== 2024-09-14 18:05:27
> we won our first league match 3-2 btw
> I'm taking all the credit
< haha congrats!!
< did you smash people
> I smashed people
< 🏸🏸🏸

== 2024-10-22 21:40:16
< Today was so fun. That coffee was unreal
< and your cat is the boss of that apartment
> haha Doubao approves of you, he didn't bite you
> that's rare
< I'll take it as a compliment
> it's the highest compliment he gives
< Next time Berlin, I'll take you to the good bakeries
> deal
"""


# ==================================================================================================
# Telegram Desktop export
# ==================================================================================================
_ENTITY = re.compile(r"\[(link|bold|mention|email|phone|code):([^\]]+)\]")
_MISSING = "(File not included. Change data exporting settings to download.)"


def _tg_text(body: str) -> tuple[str | list, list[dict]]:
    """Telegram's "text" (a plain string, or a list of strings and entity objects) and "text_entities"."""
    if not _ENTITY.search(body):
        return body, ([{"type": "plain", "text": body}] if body else [])
    parts: list = []
    entities: list[dict] = []
    pos = 0
    for m in _ENTITY.finditer(body):
        if m.start() > pos:
            parts.append(body[pos:m.start()])
            entities.append({"type": "plain", "text": body[pos:m.start()]})
        parts.append({"type": m.group(1), "text": m.group(2)})
        entities.append({"type": m.group(1), "text": m.group(2)})
        pos = m.end()
    if pos < len(body):
        parts.append(body[pos:])
        entities.append({"type": "plain", "text": body[pos:]})
    return parts, entities


def build_telegram(script: str) -> dict:
    rng = random.Random(5550202)
    people = {">": (TG_ME_NAME, f"user{TG_ME_ID}"), "<": (TG_FRIEND_NAME, f"user{TG_FRIEND_ID}")}
    actors = {"Lin": people[">"], "Maya": people["<"]}
    messages: list[dict] = []
    last_from: dict[str, int] = {}
    now: datetime | None = None
    msg_id = 48210
    last_who, last_len = None, 0
    for lineno, raw in enumerate(script.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line.startswith("=="):
            start = datetime.fromisoformat(line[2:].strip())
            if now is not None and start <= now:
                raise ValueError(f"Telegram line {lineno}: session starts before {now}")
            now, last_who = start, None
            continue
        gap = _GAP.match(line)
        if gap:
            now += timedelta(seconds=int(gap.group(1)) * _UNIT[gap.group(2)])
            continue
        marker, body = line[0], line[1:].strip()
        reply = body.startswith("~")
        body = body.lstrip("~").strip()
        if last_who is not None:  # the first message of a session keeps the session's time
            step = rng.randint(4, 30) if marker == last_who else rng.randint(20, 160) + last_len // 4
            now += timedelta(seconds=step + len(body) // 4)
        last_who, last_len = marker, len(body)
        msg_id += 1 if rng.random() > 0.08 else 2  # the odd gap: a message deleted before the export
        date = now.strftime("%Y-%m-%dT%H:%M:%S")
        unix = str(int(now.replace(tzinfo=CST).timestamp()))
        if marker == "!":
            kind, actor, arg = body[1:].split(" ", 2)
            name, uid = actors[actor]
            entry = {"id": msg_id, "type": "service", "date": date, "date_unixtime": unix,
                     "actor": name, "actor_id": uid}
            if kind == "call":
                entry.update(action="phone_call", duration_seconds=int(arg), discard_reason="hangup")
            elif kind == "pin":
                entry.update(action="pin_message", message_id=messages[-int(arg)]["id"])
            else:
                raise ValueError(f"Telegram line {lineno}: unknown service {kind!r}")
            entry.update(text="", text_entities=[])
            messages.append(entry)
            continue
        name, uid = people[marker]
        entry = {"id": msg_id, "type": "message", "date": date, "date_unixtime": unix,
                 "from": name, "from_id": uid}
        other = "<" if marker == ">" else ">"
        if reply and other in last_from:
            entry["reply_to_message_id"] = last_from[other]
        text = body
        if body.startswith("#"):
            kind, _, arg = body[1:].partition(" ")
            text = ""
            if kind == "photo":
                w, h = (int(v) for v in arg.split("x"))
                entry.update(photo=f"photos/photo_{len(messages) + 1}@{now.strftime('%d-%m-%Y_%H-%M-%S')}.jpg",
                             width=w, height=h)
            elif kind == "sticker":
                entry.update(file=_MISSING, thumbnail=_MISSING, media_type="sticker", sticker_emoji=arg,
                             width=512, height=512)
            elif kind == "voice":
                entry.update(file=_MISSING, media_type="voice_message", mime_type="audio/ogg",
                             duration_seconds=int(arg))
            elif kind == "fwd":
                source, _, text = arg.partition("|")
                entry["forwarded_from"] = source.strip()
                text = text.strip()
            else:
                raise ValueError(f"Telegram line {lineno}: unknown media {kind!r}")
        entry["text"], entry["text_entities"] = _tg_text(text)
        messages.append(entry)
        last_from[marker] = msg_id
    return {"name": TG_FRIEND_NAME, "type": "personal_chat", "id": TG_FRIEND_ID, "messages": messages}


# ==================================================================================================
# What was planted, and where
# ==================================================================================================
WECHAT_CHATS = [
    Chat("wxid_k8m2p4xq7n1c22", "妈妈", "family", MOM, "dash"),
    Chat("wxid_7h3d9s2kf0ab12", "老爸", "family", DAD, "slash"),
    Chat("wxid_zhaolei88", "赵磊", "friends", ZHAOLEI, "dash"),
    Chat("wxid_wq0312su9x", "苏晚晴", "partner", WANQING, "dash"),
    Chat("wxid_3n8v6c1w9e5t22", "王经理", "colleagues", BOSS, "dash"),
    Chat("chensiyuan_dev", "陈思远", "colleagues", SIYUAN, "dash"),
    Chat("24681357@chatroom", "羽毛球小分队", "group", GROUP, "slash",
         members=("赵磊", "周晓雨", "刘洋", "孙浩", "吴婷")),
]

F_MOM = "wechat/wxid_k8m2p4xq7n1c22/wxid_k8m2p4xq7n1c22_0_5000.csv"
F_DAD = "wechat/wxid_7h3d9s2kf0ab12/wxid_7h3d9s2kf0ab12_0_5000.csv"
F_ZL1 = "wechat/wxid_zhaolei88/wxid_zhaolei88_0_5000.csv"
F_ZL2 = "wechat/wxid_zhaolei88/wxid_zhaolei88_5000_10000.csv"
F_WQ = "wechat/wxid_wq0312su9x/wxid_wq0312su9x_0_5000.csv"
F_BOSS = "wechat/wxid_3n8v6c1w9e5t22/wxid_3n8v6c1w9e5t22_0_5000.csv"
F_SY = "wechat/chensiyuan_dev/chensiyuan_dev_0_5000.csv"
F_GROUP = "wechat/24681357@chatroom/24681357@chatroom_0_5000.csv"
F_TG = "telegram/result.json"

PLANTED_PRIVATE = [
    {"type": "ID", "value": ID_NUMBER, "file": F_MOM},
    {"type": "PHONE", "value": "13867204519", "file": F_MOM},
    {"type": "PHONE", "value": "0571-86913527", "file": F_MOM},
    {"type": "PASSWORD", "value": "736204", "file": F_MOM},  # 验证码 (one-time code) read out by his mother
    {"type": "ADDRESS", "value": "浙江省杭州市西湖区文三路388号枫桥小区3栋2单元601室", "file": F_MOM},
    {"type": "NAME", "value": "苏晚晴", "file": F_MOM},
    {"type": "BANKCARD", "value": BANK_CARD, "file": F_DAD},
    {"type": "NAME", "value": "苏晚晴", "file": F_ZL1},
    {"type": "QQ", "value": "2874519630", "file": F_ZL1},
    {"type": "PASSWORD", "value": "doubao2021", "file": F_ZL2},  # WiFi密码
    {"type": "NAME", "value": "苏晚晴", "file": F_ZL2},
    {"type": "PASSWORD", "value": "482915", "file": F_ZL2},  # 门锁密码
    {"type": "PASSWORD", "value": "482915", "file": F_WQ},  # 门锁密码
    {"type": "PHONE", "value": "138 6720 4519", "file": F_SY},
    {"type": "EMAIL", "value": "lin.che.dev@example.com", "file": F_SY},
    {"type": "PLATE", "value": "浙A·5R2M8", "file": F_GROUP},
    {"type": "EMAIL", "value": "lin.che.dev@example.com", "file": F_TG},
    {"type": "PHONE", "value": "+86 138 6720 4519", "file": F_TG},
]

# Values that look like private data but are not; a scrubber must leave them alone.
PLANTED_LOOKALIKES = [
    {"type": "ORDER_NUMBER", "value": "订单号 240618203311457293", "file": F_ZL1},
    {"type": "MONEY", "value": "¥1,399", "file": F_ZL1},
    {"type": "MONEY", "value": "¥2,399", "file": F_ZL1},
    {"type": "MONEY", "value": "1280元", "file": F_MOM},
    {"type": "MONEY", "value": "¥1,680", "file": F_WQ},
    {"type": "MONEY", "value": "¥270", "file": F_GROUP},
    {"type": "TRACKING_NUMBER", "value": "SF1428573069214", "file": F_MOM},
    {"type": "TIMESTAMP", "value": "1718006400", "file": F_SY},
    {"type": "DATE", "value": "4月29号提测 5月6号上线", "file": F_BOSS},
    {"type": "DATE", "value": "10月8号", "file": F_BOSS},
    {"type": "TIME", "value": "9月14号下午两点", "file": F_GROUP},
    {"type": "PR_NUMBER", "value": "PR #1423", "file": F_SY},
    {"type": "LATENCY", "value": "P99 118ms", "file": F_SY},
    {"type": "BENCHMARK", "value": "BenchmarkAllow-16  12.4M  96 ns/op", "file": F_TG},
]


# ==================================================================================================
# Write, then read everything back and check it
# ==================================================================================================
def write_all() -> None:
    for chat in WECHAT_CHATS:
        rows, page_break = build_rows(chat)
        folder = ROOT / "wechat" / chat.wxid
        for old in folder.glob("*.csv") if folder.exists() else ():
            old.unlink()
        if page_break is None:
            write_csv(folder / f"{chat.wxid}_0_5000.csv", rows)
        else:
            write_csv(folder / f"{chat.wxid}_0_5000.csv", rows[:page_break])
            write_csv(folder / f"{chat.wxid}_5000_10000.csv", rows[page_break:])
    tg = ROOT / F_TG
    tg.parent.mkdir(parents=True, exist_ok=True)
    tg.write_text(json.dumps(build_telegram(MAYA), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, data in (("planted_private.json", PLANTED_PRIVATE), ("planted_lookalikes.json", PLANTED_LOOKALIKES)):
        (ROOT / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _parse_csv_time(text: str) -> datetime:
    if "/" in text:
        d, t = text.split(" ")
        y, mo, da = (int(x) for x in d.split("/"))
        h, mi = (int(x) for x in t.split(":"))
        return datetime(y, mo, da, h, mi)
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def _tg_plain(text) -> str:
    return text if isinstance(text, str) else "".join(p if isinstance(p, str) else p["text"] for p in text)


def check_all() -> None:
    problems: list[str] = []
    texts: dict[str, str] = {}  # file -> the message text it holds (what a scrubber would see)
    total_mine = 0
    types_seen: set[str] = set()
    print(f"{'chat':<14}{'facet':<11}{'files':>6}{'rows':>6}{'me:text':>9}{'them:text':>10}  non-text rows")
    for chat in WECHAT_CHATS:
        files = sorted((ROOT / "wechat" / chat.wxid).glob("*.csv"), key=lambda p: int(p.stem.split("_")[-2]))
        mine = theirs = rows = 0
        other: dict[str, int] = {}
        last_time = None
        last_id = 0
        for path in files:
            rel = str(path.relative_to(ROOT))
            with path.open(encoding="utf-8", newline="") as fh:
                reader = list(csv.reader(fh))
            if reader[0] != HEADER:
                problems.append(f"{rel}: header is {reader[0]}")
            body: list[str] = []
            for row in reader[1:]:
                rows += 1
                if len(row) != 9:
                    problems.append(f"{rel}: row with {len(row)} fields: {row}")
                    continue
                rid, _svr, type_name, is_sender, talker, room, msg, src, ctime = row
                types_seen.add(type_name)
                if room != chat.wxid:
                    problems.append(f"{rel}: room_name {room}")
                if int(rid) != last_id + 1:
                    problems.append(f"{rel}: id {rid} after {last_id}")
                last_id = int(rid)
                moment = _parse_csv_time(ctime)
                if last_time and moment < last_time:
                    problems.append(f"{rel}: time goes back at id {rid}")
                last_time = moment
                if is_sender == "1" and talker != ME_NICK:
                    problems.append(f"{rel}: my row with talker {talker}")
                if type_name == "文本":
                    if is_sender == "1":
                        mine += 1
                    else:
                        theirs += 1
                    body.append(msg)
                else:
                    other[type_name] = other.get(type_name, 0) + 1
                    if type_name in ("图片", "视频", "语音", "文件") and not src:
                        problems.append(f"{rel}: {type_name} without src")
            texts[rel] = "\n".join(body)
        total_mine += mine
        summary = ", ".join(f"{k} {v}" for k, v in sorted(other.items()))
        print(f"{chat.name:<14}{chat.facet:<11}{len(files):>6}{rows:>6}{mine:>9}{theirs:>10}  {summary}")
    print(f"my WeChat text messages in all: {total_mine}")
    missing_types = KNOWN_TYPES - types_seen
    if missing_types:
        problems.append(f"types never used: {sorted(missing_types)}")
    if total_mine < 400:
        problems.append(f"only {total_mine} text messages of mine")

    tg = json.loads((ROOT / F_TG).read_text(encoding="utf-8"))
    msgs = tg["messages"]
    tg_mine = sum(1 for m in msgs if m["type"] == "message" and m.get("from_id") == f"user{TG_ME_ID}" and m["text"])
    tg_theirs = sum(1 for m in msgs if m["type"] == "message" and m.get("from_id") == f"user{TG_FRIEND_ID}" and m["text"])
    media = {
        "photo": sum("photo" in m for m in msgs),
        "sticker": sum(m.get("media_type") == "sticker" for m in msgs),
        "voice_message": sum(m.get("media_type") == "voice_message" for m in msgs),
        "service": sum(m["type"] == "service" for m in msgs),
        "forwarded": sum("forwarded_from" in m for m in msgs),
        "entity-list text": sum(isinstance(m["text"], list) for m in msgs),
        "replies": sum("reply_to_message_id" in m for m in msgs),
    }
    print(f"Telegram {tg['name']}: {len(msgs)} messages, mine(text) {tg_mine}, theirs(text) {tg_theirs}, {media}")
    ids = [m["id"] for m in msgs]
    if ids != sorted(set(ids)):
        problems.append("Telegram ids not increasing")
    for m in msgs:
        if datetime.fromtimestamp(int(m["date_unixtime"]), CST).strftime("%Y-%m-%dT%H:%M:%S") != m["date"]:
            problems.append(f"Telegram {m['id']}: date_unixtime disagrees with date")
        plain = _tg_plain(m["text"])
        if "".join(e["text"] for e in m["text_entities"]) != plain:
            problems.append(f"Telegram {m['id']}: text_entities do not spell the text")
    texts[F_TG] = "\n".join(_tg_plain(m["text"]) for m in msgs)

    if not id_valid(ID_NUMBER):
        problems.append("ID number check digit is wrong")
    if not luhn_valid(BANK_CARD):
        problems.append("bank card fails Luhn")
    print(f"ID {ID_NUMBER}: GB 11643 check digit valid = {id_valid(ID_NUMBER)}")
    print(f"bank card {BANK_CARD}: Luhn valid = {luhn_valid(BANK_CARD)}")
    for item in PLANTED_PRIVATE + PLANTED_LOOKALIKES:
        if item["value"] not in texts.get(item["file"], ""):
            problems.append(f"{item['type']} {item['value']!r} not in the messages of {item['file']}")
    for item in PLANTED_LOOKALIKES:  # a look-alike must not accidentally be a valid ID or card number
        for run in re.findall(r"\d{15,19}", item["value"]):
            if luhn_valid(run) or (len(run) == 18 and id_valid(run)):
                problems.append(f"look-alike {run} passes a check digit test")

    for blog in sorted((ROOT / "blog").glob("*.md")):
        text = blog.read_text(encoding="utf-8")
        front, _, body = text.partition("\n---\n")
        if not front.startswith("---\n") or "title:" not in front or "date:" not in front:
            problems.append(f"{blog.name}: front matter lacks title/date")
        cjk = len(re.findall(r"[\u4e00-\u9fff]", body))
        words = len(re.findall(r"[A-Za-z']+", body))
        size = f"{cjk} 汉字" if cjk > words else f"{words} words"
        print(f"blog {blog.name}: {size}")

    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    print(f"sample/ size: {total / 1024:.0f} KiB")
    if total > 1_000_000:
        problems.append("sample/ is over 1 MB")
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    write_all()
    check_all()
