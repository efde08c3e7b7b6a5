"""WeChat message types, as PyWxDump names them and as the raw (Type, SubType) codes MemoTrace writes,
mapped onto persona-lab's kinds (see ../records.py). Source: PyWxDump type_converter, listed in
shared/data/EXPORT_FORMATS.md.
"""

from __future__ import annotations

# (Type, SubType) -> PyWxDump type_name
TYPE_NAMES: dict[tuple[int, int], str] = {
    (1, 0): "文本", (3, 0): "图片", (34, 0): "语音", (37, 0): "添加好友", (42, 0): "推荐公众号",
    (43, 0): "视频", (47, 0): "动画表情", (48, 0): "位置", (49, 0): "文件", (49, 6): "文件",
    (49, 1): "粘贴的文本", (49, 3): "(分享)音乐", (49, 4): "(分享)卡片式链接", (49, 5): "(分享)卡片式链接",
    (49, 8): "用户上传的GIF表情", (49, 17): "位置共享", (49, 19): "合并转发的聊天记录", (49, 24): "(分享)笔记",
    (49, 33): "(分享)小程序", (49, 36): "(分享)小程序", (49, 40): "(分享)收藏夹", (49, 50): "(分享)视频号名片",
    (49, 51): "(分享)视频号视频", (49, 53): "接龙", (49, 57): "引用回复", (49, 63): "视频号直播",
    (49, 88): "视频号直播", (49, 87): "群公告", (49, 2000): "转账", (49, 2003): "赠送红包封面",
    (50, 0): "语音通话", (10000, 0): "系统通知", (10000, 4): "拍一拍", (10000, 8000): "邀请加群",
}
for _sub in (1, 5, 6, 33, 36, 57):
    TYPE_NAMES[(10000, _sub)] = "消息撤回"

# type_name (Chinese as PyWxDump writes it, or the English names some versions write) -> kind
_KIND_BY_NAME: dict[str, str] = {
    "文本": "text", "text": "text",
    "图片": "image", "image": "image",
    "语音": "voice", "voice": "voice",
    "视频": "video", "video": "video",
    "动画表情": "sticker", "用户上传的GIF表情": "sticker", "sticker": "sticker", "emoji": "sticker",
    "位置": "location", "位置共享": "location", "location": "location",
    "文件": "file", "file": "file",
    "粘贴的文本": "file",  # an attachment of pasted text, not something typed in the chat
    "(分享)音乐": "music",
    "(分享)卡片式链接": "link", "(分享)笔记": "link", "(分享)收藏夹": "link", "(分享)视频号名片": "link",
    "(分享)视频号视频": "link", "视频号直播": "link", "推荐公众号": "contact_card", "link": "link",
    "(分享)小程序": "mini_program",
    "合并转发的聊天记录": "forward", "forward": "forward",
    "引用回复": "quote", "quote": "quote",
    "接龙": "notice", "群公告": "notice",
    "转账": "transfer", "赠送红包封面": "red_packet", "红包": "red_packet", "transfer": "transfer",
    "语音通话": "call", "视频通话": "call", "call": "call",
    "系统通知": "system", "system": "system",
    "消息撤回": "recall", "recall": "recall",
    "拍一拍": "pat", "pat": "pat",
    "添加好友": "add_friend",
    "邀请加群": "invite",
    "未知": "unknown",
}


def kind_of_type_name(type_name: str) -> str:
    name = type_name.strip()
    if name in _KIND_BY_NAME:
        return _KIND_BY_NAME[name]
    if name.startswith("消息撤回"):
        return "recall"
    if name.startswith("(分享)"):
        return "link"
    return "unknown"


def kind_of_codes(type_code: int, sub_type: int) -> str:
    return kind_of_type_name(TYPE_NAMES.get((type_code, sub_type), "未知"))


def is_group_id(chat_id: str) -> bool:
    return chat_id.endswith("@chatroom")
