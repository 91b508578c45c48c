"""Demo hearings and symposiums (F11b): notice, participants and record, with the comments made
there (already in the demo as channel hearing/symposium) linked to them. Idempotent: a hearing is
looked up by its consultation and title before it is created."""

from __future__ import annotations

from datetime import timedelta

from consult import clock
from consult.comments.models import Category, Channel, Comment
from consult.consultations.models import Consultation
from consult.extensions import db
from consult.hearings.models import Hearing, HearingKind, HearingParticipant

HEARINGS = [
    {
        "consultation": "郑州市预付式消费管理办法（征求意见稿）",
        "kind": "hearing", "day": 24, "hour": 14,
        "title": "《郑州市预付式消费管理办法（征求意见稿）》立法听证会",
        "place": "郑州市市场监督管理局三楼听证室",
        "notice": "为听取社会各方面对《郑州市预付式消费管理办法（征求意见稿）》的意见，"
                  "市市场监督管理局定于征求意见期间举行立法听证会，重点听取对冷静期、"
                  "预收款存管和退款规则的意见。\n听证陈述人由消费者代表、经营者代表、"
                  "行业协会和专家组成，公民可以报名旁听，旁听名额 20 名，按报名先后确定。",
        "participants": [
            ("王秀兰", "消费者代表（二七区）", "individual"),
            ("陈立新", "某连锁健身企业", "enterprise"),
            ("赵敏", "市美容美发行业协会", "organisation"),
            ("孙志刚", "某大学法学院教授", "expert"),
            ("李娜", "消费者代表（金水区）", "individual"),
        ],
        "record": "听证会由市市场监督管理局主持，5 名陈述人到会陈述，旁听公民 16 人。\n"
                  "一、关于冷静期：消费者代表建议冷静期自签订合同之日起算；经营者代表认为应自"
                  "付款之日起算。\n二、关于预收款存管：行业协会建议区分单用途卡金额分档存管，"
                  "减轻小微经营者负担。\n三、关于退款：专家建议明确退款期限为 15 个工作日。\n"
                  "会上提出的意见已逐条登记，与网上收到的意见一并研究答复。",
        "comment_channel": "hearing",
    },
    {
        "consultation": "郑州市配售型保障性住房实施方案（征求意见稿）",
        "kind": "symposium", "day": 22, "hour": 9,
        "title": "社区居民代表座谈会",
        "place": "中原区林山寨街道便民服务中心会议室",
        "notice": "市住房保障部门将召开社区居民代表座谈会，听取居民对配售型保障性住房申请、"
                  "审核公示和封闭管理的意见。",
        "participants": [
            ("周桂芳", "林山寨街道居民代表", "individual"),
            ("吴建国", "社区网格员", "individual"),
            ("郑晓燕", "中原区社区社会组织联合会", "organisation"),
        ],
        "record": "座谈会听取了 3 名居民代表的意见。居民代表重点关注审核公示方式，建议在社区"
                  "公告栏同步张贴，方便老年人监督。",
        "comment_channel": "symposium", "comment_names": ["社区居民代表座谈会"],
    },
    {
        "consultation": "郑州市配售型保障性住房实施方案（征求意见稿）",
        "kind": "symposium", "day": 22, "hour": 15,
        "title": "企业职工代表座谈会",
        "place": "郑州经济技术开发区管委会二楼会议室",
        "notice": "市住房保障部门将召开企业职工代表座谈会，听取产业园区企业和职工对保障对象"
                  "范围的意见。",
        "participants": [
            ("冯磊", "某汽车零部件企业人力资源部", "enterprise"),
            ("何静", "某电子企业一线技术工人", "individual"),
        ],
        "record": "座谈会听取了企业和职工代表的意见，企业代表建议将产业园区一线技术工人纳入"
                  "保障对象。",
        "comment_channel": "symposium", "comment_names": ["企业职工代表座谈会"],
    },
]


def load_hearings() -> int:
    """Create the demo hearings that are missing; returns how many were added."""
    added = 0
    for spec in HEARINGS:
        consultation = db.session.scalar(
            db.select(Consultation).where(Consultation.title == spec["consultation"])
        )
        if consultation is None:
            continue
        exists = db.session.scalar(db.select(Hearing.id).where(
            Hearing.consultation_id == consultation.id, Hearing.title == spec["title"]))
        if exists:
            continue
        held_on = clock.local_date(consultation.opens_at) + timedelta(days=spec["day"])
        held_at = clock.start_of_day(held_on) + timedelta(hours=spec["hour"], minutes=30)
        now = clock.now()
        published_at = min(held_at - timedelta(days=7), now)
        hearing = Hearing(
            consultation=consultation, kind=HearingKind(spec["kind"]), title=spec["title"],
            held_at=held_at, place=spec["place"], notice=spec["notice"],
            published_at=published_at, created_at=published_at - timedelta(days=2),
            updated_at=published_at - timedelta(days=2),
            created_by_id=consultation.created_by_id,
        )
        if held_at + timedelta(days=3) < now:
            hearing.record = spec["record"]
            hearing.record_published_at = held_at + timedelta(days=3)
        for name, affiliation, category in spec["participants"]:
            hearing.participants.append(HearingParticipant(
                name=name, affiliation=affiliation, category=Category(category)))
        db.session.add(hearing)
        names = spec.get("comment_names")
        for comment in db.session.scalars(db.select(Comment).where(
                Comment.consultation_id == consultation.id,
                Comment.channel == Channel(spec["comment_channel"]))):
            if names is None or comment.display_name in names:
                comment.hearing = hearing
        added += 1
    db.session.flush()
    return added
