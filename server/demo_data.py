"""Demo data (演示数据) for 汶上县, Jining, Shandong: departments, towns, sites, the boundary list
and demo accounts. Pure data: no database code; the server's loader maps it to its tables.

Everything here is DEMO DATA, marked by ``DEMO_MARK``. It follows the county's public report
(summarised, with its key passages, in ``docs/domain.md``) where the report is specific and is
invented, plausibly, everywhere else:

- ``DEPARTMENTS``: 48 county units (the report's "48个部门、团体"). Names are real kinds of county
  units; the list itself is a plausible selection, not the county's official list. ``kind`` is
  ``"department"`` (a county government department or directly affiliated agency),
  ``"office"`` (a Party organ, a service centre, a unit stationed in the county, or a public
  utility) or ``"group"`` (a people's organisation, 群团).
- ``TOWNS``: the county's 15 towns and street offices (2 街道, 12 镇, 1 乡) with APPROXIMATE
  polygons: a rectangular tiling of a ~30 km x 30 km box around the county seat (35.73N,
  116.49E), arranged roughly as the towns lie (north band, middle band with the two urban street
  offices, south band). They do not overlap and share edges; they are not the real boundaries.
  Each polygon is a closed ring of (lat, lon): the first point is repeated at the end.
- ``SITES``: invented parking lots, waterlogging points, drains and river reaches in the urban
  street offices. Their names and coordinates are illustrative only.
- ``BOUNDARY_V1``: the 19 key matters ruled on in the two batches of
  《汶上县县级政府职责交叉事项认定意见》 (August). The report names parking, drainage, urban rivers,
  irrigation, migrant-worker wages and waterlogging; the other 13 matters, all duties, legal
  bases and time limits are plausible reconstructions. Areas follow the source: parking lots
  county-wide (全县停车场管理 → 综合行政执法局), drainage networks county-wide (named with no
  area), urban rivers and waterlogging in the urban area (城区河道, 城区道路、胡同积水), wages
  county-wide with every town/street (各乡镇(街道)); an invented matter named 城区… (城区绿化管理)
  applies to the urban area, every other invented matter county-wide.
- ``DEMO_USERS``: one account per role plus handlers for the departments of the worked examples;
  all share ``DEMO_PASSWORD``.

Town/street offices as assisting parties: the report says "各乡镇（街道）负责…排查和调处". Towns are
not departments; an assisting duty (or a user) refers to a town/street office by a special
department code:

- ``"town:*"`` (``TOWN_OFFICE_HERE``): the town/street office of the place where the case is.
  It is resolved per case from the town containing the case's location.
- ``"town:<town code>"`` (``town_office_code(code)``): one named town/street office, e.g.
  ``"town:wenshang"`` for 汶上街道 — used for the department of a town office's users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sync.boundary_types import (
    Area,
    AreaKind,
    AssistingDuty,
    BoundaryEntry,
    BoundaryVersion,
    Point,
    Site,
    TimeLimit,
    Town,
)
from sync.clock import CHINA_TZ
from sync.vocabulary import Role, TimeUnit

DEMO_MARK = "演示数据"
DEMO_PASSWORD = "yixian-demo"

TOWN_OFFICE_PREFIX = "town:"
TOWN_OFFICE_HERE = "town:*"  # the town/street office where the case is


def town_office_code(town_code: str) -> str:
    """The department code standing for one named town/street office."""
    return f"{TOWN_OFFICE_PREFIX}{town_code}"


def is_town_office_code(department_code: str) -> bool:
    """True for ``"town:*"`` and ``"town:<code>"`` codes (not checked against ``TOWNS``)."""
    return department_code.startswith(TOWN_OFFICE_PREFIX)


@dataclass(frozen=True)
class DemoDepartment:
    code: str  # stable ASCII code
    name: str  # full name
    short_name: str
    kind: str  # "department" | "office" | "group"


@dataclass(frozen=True)
class DemoUser:
    username: str  # ASCII login name
    display_name: str
    role: Role
    department_code: str  # a DEPARTMENTS code or "town:<town code>"


# --- departments -------------------------------------------------------------------------

DEPARTMENTS: tuple[DemoDepartment, ...] = (
    # government departments and directly affiliated agencies
    DemoDepartment("zhzf", "汶上县综合行政执法局", "综合执法局", "department"),
    DemoDepartment("sw", "汶上县水务局", "水务局", "department"),
    DemoDepartment("zj", "汶上县住房和城乡建设局", "住建局", "department"),
    DemoDepartment("jt", "汶上县交通运输局", "交通局", "department"),
    DemoDepartment("rs", "汶上县人力资源和社会保障局", "人社局", "department"),
    DemoDepartment("sf", "汶上县司法局", "司法局", "department"),
    DemoDepartment("ga", "汶上县公安局", "公安局", "department"),
    DemoDepartment("zrzy", "汶上县自然资源和规划局", "自然资源局", "department"),
    DemoDepartment("sthj", "济宁市生态环境局汶上县分局", "生态环境分局", "department"),
    DemoDepartment("nync", "汶上县农业农村局", "农业农村局", "department"),
    DemoDepartment("scjg", "汶上县市场监督管理局", "市场监管局", "department"),
    DemoDepartment("yjgl", "汶上县应急管理局", "应急局", "department"),
    DemoDepartment("wj", "汶上县卫生健康局", "卫健局", "department"),
    DemoDepartment("jyt", "汶上县教育和体育局", "教体局", "department"),
    DemoDepartment("mz", "汶上县民政局", "民政局", "department"),
    DemoDepartment("cz", "汶上县财政局", "财政局", "department"),
    DemoDepartment("shw", "汶上县商务局", "商务局", "department"),
    DemoDepartment("wl", "汶上县文化和旅游局", "文旅局", "department"),
    DemoDepartment("fg", "汶上县发展和改革局", "发改局", "department"),
    DemoDepartment("gx", "汶上县工业和信息化局", "工信局", "department"),
    DemoDepartment("tyjr", "汶上县退役军人事务局", "退役军人局", "department"),
    DemoDepartment("sj", "汶上县审计局", "审计局", "department"),
    DemoDepartment("tj", "汶上县统计局", "统计局", "department"),
    DemoDepartment("yb", "汶上县医疗保障局", "医保局", "department"),
    DemoDepartment("xfj", "汶上县信访局", "信访局", "department"),
    DemoDepartment("xzsp", "汶上县行政审批服务局", "行政审批局", "department"),
    DemoDepartment("gxs", "汶上县供销合作社联合社", "供销社", "department"),
    # Party organs, service centres, stationed units and public utilities
    DemoDepartment("shzl", "汶上县社会治理中心", "社会治理中心", "office"),
    DemoDepartment("jwjw", "中共汶上县纪律检查委员会 汶上县监察委员会", "县纪委监委", "office"),
    DemoDepartment("wbb", "中共汶上县委机构编制委员会办公室", "县委编办", "office"),
    DemoDepartment("rx", "汶上县政务热线服务中心", "热线中心", "office"),
    DemoDepartment("zfb", "汶上县人民政府办公室", "县政府办", "office"),
    DemoDepartment("zfw", "中共汶上县委政法委员会", "县委政法委", "office"),
    DemoDepartment("cgfw", "汶上县城市管理服务中心", "城管服务中心", "office"),
    DemoDepartment("lyfz", "汶上县林业发展中心", "林业中心", "office"),
    DemoDepartment("jgsw", "汶上县机关事务服务中心", "机关事务中心", "office"),
    DemoDepartment("kfq", "汶上经济开发区管理委员会", "开发区管委会", "office"),
    DemoDepartment("xfjy", "汶上县消防救援大队", "消防救援大队", "office"),
    DemoDepartment("qx", "汶上县气象局", "气象局", "office"),
    DemoDepartment("gd", "国网山东省电力公司汶上县供电公司", "供电公司", "office"),
    DemoDepartment("rl", "汶上县热力有限公司", "热力公司", "office"),
    # people's organisations (群团)
    DemoDepartment("zgh", "汶上县总工会", "县总工会", "group"),
    DemoDepartment("tw", "共青团汶上县委员会", "团县委", "group"),
    DemoDepartment("fl", "汶上县妇女联合会", "县妇联", "group"),
    DemoDepartment("cl", "汶上县残疾人联合会", "县残联", "group"),
    DemoDepartment("gsl", "汶上县工商业联合会", "县工商联", "group"),
    DemoDepartment("kx", "汶上县科学技术协会", "县科协", "group"),
    DemoDepartment("hszh", "汶上县红十字会", "县红十字会", "group"),
)

DEPARTMENTS_BY_CODE: Mapping[str, DemoDepartment] = {d.code: d for d in DEPARTMENTS}

# 联合会商小组: rules on responsibility disputes.
JOINT_CONSULTATION_GROUP: tuple[str, ...] = ("shzl", "jwjw", "wbb", "sf", "rx")


# --- towns and street offices ------------------------------------------------------------


def _rect(south: float, west: float, north: float, east: float) -> tuple[Point, ...]:
    """A closed rectangular ring (first point repeated), counter-clockwise from the south-west."""
    return (
        Point(south, west),
        Point(south, east),
        Point(north, east),
        Point(north, west),
        Point(south, west),
    )


# The approximate county box, ~30 km x 30 km, in three latitude bands.
_SOUTH, _MID_S, _MID_N, _NORTH = 35.600, 35.705, 35.775, 35.870
_WEST, _EAST = 116.330, 116.660

TOWNS: tuple[Town, ...] = (
    # north band, west to east
    Town("juntun", "军屯乡", "town", False, _rect(_MID_N, _WEST, _NORTH, 116.410)),
    Town("liulou", "刘楼镇", "town", False, _rect(_MID_N, 116.410, _NORTH, 116.490)),
    Town("guolou", "郭楼镇", "town", False, _rect(_MID_N, 116.490, _NORTH, 116.570)),
    Town("baishi", "白石镇", "town", False, _rect(_MID_N, 116.570, _NORTH, _EAST)),
    # middle band, west to east; the two urban street offices around the county seat
    Town("yiqiao", "义桥镇", "town", False, _rect(_MID_S, _WEST, _MID_N, 116.395)),
    Town("yuanzhuang", "苑庄镇", "town", False, _rect(_MID_S, 116.395, _MID_N, 116.455)),
    Town("wenshang", "汶上街道", "street", True, _rect(_MID_S, 116.455, _MID_N, 116.495)),
    Town("zhongdu", "中都街道", "street", True, _rect(_MID_S, 116.495, _MID_N, 116.535)),
    Town("yangdian", "杨店镇", "town", False, _rect(_MID_S, 116.535, _MID_N, 116.595)),
    Town("yinsi", "寅寺镇", "town", False, _rect(_MID_S, 116.595, _MID_N, _EAST)),
    # south band, west to east
    Town("guocang", "郭仓镇", "town", False, _rect(_SOUTH, _WEST, _MID_S, 116.390)),
    Town("nanwang", "南旺镇", "town", False, _rect(_SOUTH, 116.390, _MID_S, 116.440)),
    Town("kangyi", "康驿镇", "town", False, _rect(_SOUTH, 116.440, _MID_S, 116.490)),
    Town("nanzhan", "南站镇", "town", False, _rect(_SOUTH, 116.490, _MID_S, 116.560)),
    Town("ciqiu", "次丘镇", "town", False, _rect(_SOUTH, 116.560, _MID_S, _EAST)),
)

TOWNS_BY_CODE: Mapping[str, Town] = {t.code: t for t in TOWNS}

COUNTY_SEAT = Point(35.730, 116.490)


# --- the boundary list, version 1 ----------------------------------------------------------

_COUNTY = Area(AreaKind.COUNTY)
_URBAN = Area(AreaKind.URBAN)


def _days(n: int) -> TimeLimit:
    return TimeLimit(n, TimeUnit.WORKING_DAYS)


def _hours(n: int) -> TimeLimit:
    return TimeLimit(n, TimeUnit.WORKING_HOURS)


_BATCH_1 = "认定意见第一批"
_BATCH_2 = "认定意见第二批"

_ENTRIES: tuple[BoundaryEntry, ...] = (
    # --- first batch ---
    BoundaryEntry(
        matter="停车场监管",
        category="parking",
        lead_department_code="zhzf",
        lead_duty="全县停车场的统筹管理和日常监管，摸排无人管理或管理责任不清的停车场，"
        "约谈开发企业明确责任主体，查处违规经营行为",
        assisting=(
            AssistingDuty("ga", "负责停车场周边道路交通秩序管理，查处道路违法停车"),
            AssistingDuty("zj", "负责住宅小区配建停车场及物业服务企业的行业监管"),
            AssistingDuty("zrzy", "负责停车场规划配建审查及用地审批"),
            AssistingDuty("scjg", "负责停车服务收费价格行为监管"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区停车场的日常巡查和问题上报"),
        ),
        legal_basis="《中华人民共和国道路交通安全法》；《山东省城市停车设施管理办法》；"
        "县综合行政执法局“三定”规定",
        area=_COUNTY,  # 认定意见: "全县停车场管理…县综合行政执法局"
        time_limit=_days(10),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="排水管网管理",
        category="drainage",
        lead_department_code="sw",
        lead_duty="负责排水管网、泵站的运行维护、疏通清淤和排水许可管理",
        assisting=(
            AssistingDuty("zj", "负责新建、改建项目配套排水设施的建设监管和验收移交"),
            AssistingDuty("zhzf", "负责违法占压、擅自接入排水管网等行为的查处"),
            AssistingDuty("sthj", "负责向排水管网排放污染物的环境监管"),
        ),
        legal_basis="《城镇排水与污水处理条例》；县水务局“三定”规定",
        area=_COUNTY,  # the source names 排水管网管理 with no area
        time_limit=_days(7),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="城区河道管理",
        category="urban_river",
        lead_department_code="sw",
        lead_duty="负责城区河道的统一管理、防洪调度、堤防维护和河道清淤",
        assisting=(
            AssistingDuty("zhzf", "负责河道管理范围内违法建设、倾倒垃圾等行为的查处"),
            AssistingDuty("cgfw", "负责城区河道沿岸绿化养护和水面保洁"),
            AssistingDuty("sthj", "负责河道水质监测和入河排污口监管"),
            AssistingDuty(TOWN_OFFICE_HERE, "落实河长制属地责任，负责日常巡河和问题上报"),
        ),
        legal_basis="《中华人民共和国水法》；《中华人民共和国河道管理条例》；县水务局“三定”规定",
        area=_URBAN,
        time_limit=_days(10),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="农业灌溉",
        category="irrigation",
        lead_department_code="sw",
        lead_duty="负责灌区、机井、泵站等农田水利设施的管理和灌溉用水调度",
        assisting=(
            AssistingDuty("nync", "负责高标准农田灌溉设施建设及建成后的移交管护指导"),
            AssistingDuty("gd", "负责灌溉机井、泵站的供电保障"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责组织村级灌溉，调处灌溉用水纠纷"),
        ),
        legal_basis="《农田水利条例》；《中华人民共和国水法》；县水务局“三定”规定",
        area=_COUNTY,
        time_limit=_days(5),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="占道经营",
        category="street_vending",
        lead_department_code="zhzf",
        lead_duty="负责查处城市道路、广场等公共场所的占道经营和店外经营行为",
        assisting=(
            AssistingDuty("scjg", "负责查处无照经营等违法行为"),
            AssistingDuty("ga", "负责占道经营影响道路交通安全的秩序维护"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区集市、背街小巷占道经营的劝导和规范"),
        ),
        legal_basis="《城市市容和环境卫生管理条例》；《无证无照经营查处办法》",
        area=_COUNTY,
        time_limit=_days(3),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="违法建设查处",
        category="illegal_construction",
        lead_department_code="zhzf",
        lead_duty="负责违法建设的立案查处和强制拆除",
        assisting=(
            AssistingDuty("zrzy", "负责出具规划认定意见，查处违法占用土地行为"),
            AssistingDuty("zj", "负责未取得施工许可擅自施工行为的查处"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区违法建设的巡查发现、及时制止和上报"),
        ),
        legal_basis="《中华人民共和国城乡规划法》；《中华人民共和国土地管理法》；"
        "《山东省城乡规划条例》",
        area=_COUNTY,
        time_limit=_days(15),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="餐饮油烟和噪声污染",
        category="fumes_noise",
        lead_department_code="zhzf",
        lead_duty="负责查处餐饮服务业油烟污染和露天烧烤行为",
        assisting=(
            AssistingDuty("sthj", "负责油烟、噪声的监测和工业噪声污染监管"),
            AssistingDuty("ga", "负责社会生活噪声的查处"),
            AssistingDuty("scjg", "负责餐饮服务经营者的许可监管"),
        ),
        legal_basis="《中华人民共和国大气污染防治法》；《中华人民共和国噪声污染防治法》",
        area=_COUNTY,
        time_limit=_days(7),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="户外广告设置管理",
        category="outdoor_ads",
        lead_department_code="zhzf",
        lead_duty="负责户外广告设施设置的监督管理，拆除违规和存在安全隐患的户外广告",
        assisting=(
            AssistingDuty("scjg", "负责户外广告内容的监管"),
            AssistingDuty("zrzy", "负责户外广告设置专项规划"),
        ),
        legal_basis="《中华人民共和国广告法》；《城市市容和环境卫生管理条例》",
        area=_COUNTY,
        time_limit=_days(7),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="渣土运输管理",
        category="muck_transport",
        lead_department_code="zhzf",
        lead_duty="负责建筑垃圾处置核准，查处运输车辆沿途撒漏、乱倒行为",
        assisting=(
            AssistingDuty("ga", "负责渣土车超载、超速等交通违法行为的查处"),
            AssistingDuty("jt", "负责渣土运输企业和车辆的道路运输资质管理"),
            AssistingDuty("zj", "负责建筑工地出入口车辆冲洗和扬尘管控"),
        ),
        legal_basis="《城市建筑垃圾管理规定》；《中华人民共和国固体废物污染环境防治法》",
        area=_COUNTY,
        time_limit=_days(3),
        source=_BATCH_1,
    ),
    BoundaryEntry(
        matter="道路破损修复",
        category="road_damage",
        lead_department_code="jt",
        lead_duty="负责国省道、县乡道路面破损的维修养护",
        assisting=(
            AssistingDuty("zj", "负责城区市政道路的维修养护"),
            AssistingDuty("ga", "负责破损路段的交通安全警示和疏导"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责村内道路的维修养护和破损路段上报"),
        ),
        legal_basis="《公路安全保护条例》；《城市道路管理条例》；县交通运输局“三定”规定",
        area=_COUNTY,
        time_limit=_days(10),
        source=_BATCH_1,
    ),
    # --- second batch ---
    BoundaryEntry(
        matter="农民工工资支付",
        category="unpaid_wages",
        lead_department_code="rs",
        lead_duty="牵头负责拖欠农民工工资纠纷案件的推送和督办，查处拖欠工资违法行为",
        assisting=(
            AssistingDuty("zj", "负责房屋建筑和市政工程领域农民工工资支付的行业监管"),
            AssistingDuty("jt", "负责交通工程领域农民工工资支付的行业监管"),
            AssistingDuty("sw", "负责水利工程领域农民工工资支付的行业监管"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区拖欠农民工工资纠纷的排查和调处"),
        ),
        legal_basis="《保障农民工工资支付条例》；县人力资源和社会保障局“三定”规定",
        area=_COUNTY,
        time_limit=_days(5),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="城区积水点治理",
        category="waterlogging",
        lead_department_code="zhzf",
        lead_duty="负责城区道路、胡同积水的应急处置和积水点治理的牵头协调",
        assisting=(
            AssistingDuty("sw", "负责排水管网疏通、泵站强排和管网改造"),
            AssistingDuty("zj", "负责市政道路和老旧小区排水设施的建设改造"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区积水点的巡查上报和群众疏导"),
        ),
        legal_basis="《城镇排水与污水处理条例》；《中华人民共和国防洪法》",
        area=_URBAN,
        time_limit=_hours(24),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="流浪犬管理",
        category="stray_dogs",
        lead_department_code="ga",
        lead_duty="负责养犬登记管理，组织收容流浪犬，查处违法养犬行为",
        assisting=(
            AssistingDuty("nync", "负责犬只狂犬病免疫和动物疫病防控"),
            AssistingDuty("wj", "负责犬伤人员的救治和狂犬病疫苗接种"),
            AssistingDuty("zhzf", "负责城区流浪犬的发现上报和协助捕捉"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责辖区流浪犬的排查和上报"),
        ),
        legal_basis="《中华人民共和国动物防疫法》；《中华人民共和国治安管理处罚法》",
        area=_COUNTY,
        time_limit=_days(5),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="集中供暖",
        category="heating",
        lead_department_code="zj",
        lead_duty="负责城镇供热行业监管，督促供热企业保障供热质量",
        assisting=(
            AssistingDuty("rl", "负责供热设施的运行维护和用户报修处置"),
            AssistingDuty("scjg", "负责供热收费价格和热计量监管"),
        ),
        legal_basis="《山东省供热条例》；县住房和城乡建设局“三定”规定",
        area=_COUNTY,
        time_limit=_hours(48),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="物业服务纠纷",
        category="property_disputes",
        lead_department_code="zj",
        lead_duty="负责物业服务企业的监督管理，查处违规物业服务行为",
        assisting=(
            AssistingDuty(TOWN_OFFICE_HERE, "负责指导业主大会和业主委员会，调处物业纠纷"),
            AssistingDuty("sf", "负责物业纠纷的人民调解指导和法律援助"),
            AssistingDuty("scjg", "负责物业服务收费行为的监管"),
        ),
        legal_basis="《物业管理条例》；《山东省物业管理条例》",
        area=_COUNTY,
        time_limit=_days(10),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="校园周边环境整治",
        category="school_surroundings",
        lead_department_code="jyt",
        lead_duty="牵头组织校园周边环境综合整治，建立问题台账并督促整改",
        assisting=(
            AssistingDuty("ga", "负责校园周边治安秩序和上下学交通秩序"),
            AssistingDuty("scjg", "负责校园周边食品、文具等经营行为的监管"),
            AssistingDuty("zhzf", "负责校园周边占道经营的查处"),
            AssistingDuty("wl", "负责校园周边网吧等文化经营场所的监管"),
        ),
        legal_basis="《中华人民共和国未成年人保护法》；《中小学幼儿园安全管理办法》",
        area=_COUNTY,
        time_limit=_days(7),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="食品摊贩管理",
        category="food_vendors",
        lead_department_code="scjg",
        lead_duty="负责食品摊点的登记备案和食品安全监管",
        assisting=(
            AssistingDuty("zhzf", "负责食品摊贩占道经营的查处"),
            AssistingDuty("wj", "负责食源性疾病的调查处置"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责划定和管理辖区食品摊点经营区域"),
        ),
        legal_basis="《中华人民共和国食品安全法》；《山东省食品小作坊小餐饮和食品摊点管理条例》",
        area=_COUNTY,
        time_limit=_days(5),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="路灯管理维护",
        category="street_lights",
        lead_department_code="cgfw",
        lead_duty="负责城区道路路灯的建设、维修和运行管理",
        assisting=(
            AssistingDuty("gd", "负责路灯供电线路的供电保障和故障抢修"),
            AssistingDuty("jt", "负责公路沿线路灯的管理维护"),
            AssistingDuty(TOWN_OFFICE_HERE, "负责镇村道路路灯的管理维护"),
        ),
        legal_basis="《城市道路照明设施管理规定》；《城市道路管理条例》",
        area=_COUNTY,
        time_limit=_days(5),
        source=_BATCH_2,
    ),
    BoundaryEntry(
        matter="城区绿化管理",
        category="greening",
        lead_department_code="zj",
        lead_duty="负责园林绿化的行业管理和绿化工程监管",
        assisting=(
            AssistingDuty("cgfw", "负责城区公共绿地、行道树的日常养护"),
            AssistingDuty("zhzf", "负责擅自占用绿地、毁坏树木等行为的查处"),
            AssistingDuty("lyfz", "负责林木采伐审批和林业有害生物防治"),
            AssistingDuty("gd", "负责电力线路保护区内树线矛盾的处理"),
        ),
        legal_basis="《城市绿化条例》；《中华人民共和国森林法》",
        area=_URBAN,  # the matter is 城区 by its own name
        time_limit=_days(7),
        source=_BATCH_2,
    ),
)

BOUNDARY_V1 = BoundaryVersion(
    number=1,
    effective_from=datetime(2026, 8, 15, tzinfo=CHINA_TZ),
    reason="《汶上县县级政府职责交叉事项认定意见》第一、二批",
    entries=_ENTRIES,
)


# --- registered sites (invented names and coordinates) -------------------------------------


def _parking(code: str, name: str, town: str, lat: float, lon: float) -> Site:
    return Site(code, name, "parking_lot", "parking", town, Point(lat, lon), radius_m=80.0)


def _waterlogging(code: str, name: str, town: str, lat: float, lon: float) -> Site:
    return Site(
        code, name, "waterlogging_point", "waterlogging", town, Point(lat, lon), radius_m=60.0
    )


SITES: tuple[Site, ...] = (
    # 12 public parking lots (the county counted 52 in the urban area)
    _parking("P01", "宝相寺景区停车场", "wenshang", 35.7405, 116.4780),
    _parking("P02", "县人民医院停车场", "wenshang", 35.7330, 116.4870),
    _parking("P03", "县政务服务中心停车场", "zhongdu", 35.7250, 116.5060),
    _parking("P04", "汽车站停车场", "zhongdu", 35.7180, 116.5150),
    _parking("P05", "文化广场停车场", "wenshang", 35.7290, 116.4720),
    _parking("P06", "体育中心停车场", "zhongdu", 35.7370, 116.5220),
    _parking("P07", "中心农贸市场停车场", "wenshang", 35.7220, 116.4810),
    _parking("P08", "中都商城停车场", "zhongdu", 35.7310, 116.5000),
    _parking("P09", "泉河公园停车场", "wenshang", 35.7460, 116.4650),
    _parking("P10", "县中医院停车场", "zhongdu", 35.7440, 116.5100),
    _parking("P11", "老城区公共停车场", "wenshang", 35.7360, 116.4900),
    _parking("P12", "开发区公共停车场", "zhongdu", 35.7120, 116.5280),
    # the 4 waterlogging points found at the joint on-site session
    _waterlogging("W01", "老城区胡同积水点", "wenshang", 35.7350, 116.4830),
    _waterlogging("W02", "铁路桥涵洞积水点", "wenshang", 35.7150, 116.4700),
    _waterlogging("W03", "中都大街与政通路路口积水点", "zhongdu", 35.7270, 116.5120),
    _waterlogging("W04", "东关小区门前积水点", "zhongdu", 35.7400, 116.5180),
    # drains and river reaches
    Site(
        "D01",
        "城区主干排水管网西段",
        "drain",
        "drainage",
        "wenshang",
        Point(35.7300, 116.4760),
        radius_m=300.0,
    ),
    Site(
        "D02",
        "城区主干排水管网东段",
        "drain",
        "drainage",
        "zhongdu",
        Point(35.7300, 116.5200),
        radius_m=300.0,
    ),
    Site(
        "R01",
        "泉河城区段",
        "river",
        "urban_river",
        "wenshang",
        Point(35.7480, 116.4700),
        radius_m=500.0,
    ),
    Site(
        "R02",
        "小汶河城区段",
        "river",
        "urban_river",
        "zhongdu",
        Point(35.7120, 116.5050),
        radius_m=500.0,
    ),
)


# --- demo accounts ------------------------------------------------------------------------

DEMO_USERS: tuple[DemoUser, ...] = (
    # inspectors belong to the social governance centre, which runs the grid (网格)
    DemoUser("inspector", "巡查员（演示）", Role.INSPECTOR, "shzl"),
    DemoUser("supervisor", "督办员（演示）", Role.SUPERVISOR, "zfb"),
    DemoUser("coordinator", "编办协调员（演示）", Role.COORDINATOR, "wbb"),
    DemoUser("admin", "系统管理员（演示）", Role.ADMIN, "shzl"),
    DemoUser("rx_handler", "热线中心经办人（演示）", Role.HANDLER, "rx"),
    DemoUser("zhzf_handler", "综合执法局经办人（演示）", Role.HANDLER, "zhzf"),
    DemoUser("sw_handler", "水务局经办人（演示）", Role.HANDLER, "sw"),
    DemoUser("zj_handler", "住建局经办人（演示）", Role.HANDLER, "zj"),
    DemoUser("rs_handler", "人社局经办人（演示）", Role.HANDLER, "rs"),
    DemoUser("jt_handler", "交通局经办人（演示）", Role.HANDLER, "jt"),
    DemoUser(
        "wenshang_handler", "汶上街道经办人（演示）", Role.HANDLER, town_office_code("wenshang")
    ),
)
