"""UI text: Chinese (zh-CN) first, every label also in English.

``MESSAGES`` maps a key to its (zh, en) forms; ``t(key, lang)`` picks one. Keys are grouped
by screen with a dotted prefix (``login.*``, ``nav.*``). Screens added later put their keys
here too: a unit test checks every key has both forms.
"""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    ZH = "zh-CN"
    EN = "en"


DEFAULT_LANG = Lang.ZH

MESSAGES: dict[str, tuple[str, str]] = {
    # the app
    "app.name": ("一线", "Yixian"),
    "app.tagline": ("一线联合办公 · 现场处置", "On-site joint office work"),
    "app.starting": ("正在启动…", "Starting…"),
    # navigation
    "nav.home": ("首页", "Home"),
    "nav.new": ("上报", "Report"),
    "nav.settings": ("设置", "Settings"),
    "nav.back": ("返回", "Back"),
    # sign-in
    "login.server": ("服务器地址", "Server address"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.busy": ("正在登录…", "Signing in…"),
    "lang.switch_to": ("English", "中文"),  # names the language a tap switches to
    "login.error.username_required": ("请输入用户名", "Enter your username"),
    "login.error.password_required": ("请输入密码", "Enter your password"),
    "login.error.server_invalid": (
        "服务器地址应以 http:// 或 https:// 开头",
        "The server address must start with http:// or https://",
    ),
    "login.error.bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "login.error.rejected": ("服务器拒绝登录", "The server refused the sign-in"),
    "login.error.unreachable": (
        "无法连接服务器，可离线继续工作",
        "Cannot reach the server; you can keep working offline",
    ),
    "login.error.timeout": (
        "服务器响应超时，可离线继续工作",
        "The server did not answer in time; you can keep working offline",
    ),
    "login.error.server_fault": (
        "服务器出错，请稍后再试",
        "The server failed; try again later",
    ),
    # home
    "home.title": ("首页", "Home"),
    "home.welcome": ("你好，{name}", "Hello, {name}"),
    "home.placeholder": (
        "待办案件将显示在这里",
        "Your open cases will appear here",
    ),
    "home.signed_in_as": ("{department} · {role}", "{department} · {role}"),
    # new case
    "new.title": ("上报问题", "Report a problem"),
    "new.placeholder": ("现场上报即将开放", "On-site reporting is coming"),
    # case
    "case.title": ("案件 {id}", "Case {id}"),
    "case.placeholder": ("案件详情即将开放", "Case details are coming"),
    "home.tasks": ("我的待办", "My tasks"),
    "home.no_tasks": ("暂无待办", "Nothing to do"),
    "home.near_me": ("附近案件", "Cases near me"),
    "home.no_position": ("暂无定位", "No position yet"),
    "home.nothing_near": ("附近 500 米内没有未结案件", "No open case within 500 m"),
    "home.distance": ("{m} 米", "{m} m"),
    "bucket.overdue": ("已超期", "Overdue"),
    "bucket.due_soon": ("即将到期", "Due soon"),
    "bucket.new": ("新案件", "New"),
    "bucket.in_progress": ("处置中", "In progress"),
    # sync indicator and 同步问题
    "sync.now": ("立即同步", "Sync now"),
    "sync.syncing": ("正在同步…", "Syncing…"),
    "sync.never": ("尚未同步", "Not synced yet"),
    "sync.synced": ("已全部同步", "All synced"),
    "sync.waiting": ("有待同步的数据", "Waiting to sync"),
    "sync.detail": (
        "待同步 {commands} 条 · 照片 {photos} 张 · 上次同步 {last}",
        "{commands} pending · {photos} photos · last sync {last}",
    ),
    "sync.last.never": ("无", "never"),
    "sync.problems": ("同步问题 {n} 条", "{n} sync problems"),
    "sync.error.offline": ("离线：数据已保存在本机", "Offline: saved on this device"),
    "sync.error.not_registered": ("设备未登记，请重新登录", "Device not registered: sign in again"),
    "sync.error.outdated": ("请更新应用后再同步", "Update the app to sync"),
    "sync.error.failed": ("同步失败，稍后重试", "Sync failed; retrying later"),
    "problems.title": ("同步问题", "Sync problems"),
    "problems.none": ("没有同步问题", "No sync problems"),
    "problems.status.rejected": ("服务器拒绝", "Rejected by the server"),
    "problems.status.conflict": ("与他人修改冲突", "Conflicts with another change"),
    "problem.advice.wrong_status": (
        "案件状态已被他人改变：查看案件最新状态后再操作",
        "Someone changed the case meanwhile: check its status and act again",
    ),
    "problem.advice.not_allowed": (
        "你无权执行此操作：请联系主办部门或督办",
        "You may not do this: contact the lead department or a supervisor",
    ),
    "problem.advice.invalid": (
        "信息不完整或有误：补充后重新提交",
        "Something was missing or wrong: complete it and submit again",
    ),
    "problem.advice.conflict": (
        "服务器保留了他人的修改：请核对后再改",
        "The server kept the other change: check it and edit again",
    ),
    "problem.advice.not_found": ("案件不存在或无权查看", "The case is gone or not visible to you"),
    "problem.advice.other": ("请联系管理员", "Contact an administrator"),
    "command.CreateCase": ("登记案件", "Record case"),
    "command.TransitionCase": ("案件操作", "Case action"),
    "command.AddNote": ("进展记录", "Progress note"),
    "command.AddPhoto": ("添加照片", "Add photo"),
    "command.EditCase": ("修改案件", "Edit case"),
    # new inspection (巡查记录)
    "new.number": ("编号 {number}", "No. {number}"),
    "new.no_reference": (
        "尚未下载职责清单：连网同步一次后即可离线上报",
        "The boundary list is not on this device yet: sync once online",
    ),
    "new.category": ("问题类别", "Category"),
    "new.add_photos": ("拍照 / 选择照片（{n}/{max}）", "Take / pick photos ({n}/{max})"),
    "new.gps_waiting": ("正在定位…", "Getting a GPS fix…"),
    "new.accuracy": ("精度 ±{m} 米", "±{m} m"),
    "new.source.gps": ("卫星定位", "GPS"),
    "new.source.exif": ("照片定位", "Photo EXIF"),
    "new.source.manual": ("手动输入", "Typed"),
    "new.accuracy_warning": (
        "定位精度较差，请到开阔处重试或核对位置",
        "Poor accuracy: retry in the open or check the point",
    ),
    "new.location_reason": ("定位偏差说明（精度超过 100 米）", "Why the point is right (> 100 m)"),
    "new.no_gps": ("无法定位：请手动输入坐标", "No GPS fix: type the point"),
    "new.lat": ("纬度", "Latitude"),
    "new.lon": ("经度", "Longitude"),
    "new.use_manual": ("使用此坐标", "Use this point"),
    "new.description": ("问题描述", "Description"),
    "new.site_suggested": ("最近的登记点位 · {m} 米", "Nearest registered site · {m} m"),
    "new.site_decline": ("不是这个点位", "Not this site"),
    "new.duplicates": (
        "附近 50 米内有 {n} 件同类未结案件，可能重复",
        "{n} open case(s) of this category within 50 m: possible duplicates",
    ),
    "new.link_duplicate": ("关联到此案件（不新建）", "Add to this case instead"),
    "new.next": ("下一步：现场交办", "Next: assign on the spot"),
    "new.error.category_required": ("请选择问题类别", "Choose a category"),
    "new.error.description_required": ("请填写问题描述", "Describe the problem"),
    "new.error.photo_required": ("请至少拍一张照片", "Add at least one photo"),
    "new.error.location_required": ("需要位置：等待定位或手动输入", "A location is needed"),
    "new.error.location_reason_required": (
        "精度超过 100 米，请说明理由",
        "Accuracy is over 100 m: give a reason",
    ),
    "new.error.manual_invalid": ("坐标无效", "Not a valid point"),
    # on-the-spot assignment
    "assign.title": ("现场交办", "Assign on the spot"),
    "assign.matter": ("事项", "Matter"),
    "assign.lead": ("主办部门", "Lead department"),
    "assign.assisting": ("协办部门及职责", "Assisting departments and duties"),
    "assign.legal_basis": ("依据", "Legal basis"),
    "assign.version": ("清单版本", "List version"),
    "assign.version_value": ("第 {n} 版（{source}）", "v{n} ({source})"),
    "assign.deadline": ("办结时限", "Deadline"),
    "assign.override": ("改派其他部门", "Assign differently"),
    "assign.override_lead": ("改派主办部门", "Lead department instead"),
    "assign.override_reason": ("改派理由", "Reason for the change"),
    "assign.confirm": ("确认交办", "Confirm assignment"),
    "assign.save_only": ("仅登记，暂不交办", "Record only, assign later"),
    "assign.no_proposal": ("清单中没有适用的事项", "The list has no matching matter"),
    "assign.error.reason_required": ("改派须说明理由", "Give a reason for the change"),
    # case detail
    "case.not_here": ("本机没有这个案件", "This case is not on this device"),
    "case.due": ("时限 {when}", "due {when}"),
    "case.disputed": ("有异议", "disputed"),
    "case.disputed_note": (
        "已提出异议：处置继续，案件仍在本部门待办中",
        "Dispute raised: work goes on and the case stays on your list",
    ),
    "case.not_synced": ("待同步", "not synced yet"),
    "case.add_note": ("进展记录", "Progress note"),
    "case.reason": ("理由 / 说明", "Reason"),
    "case.note": ("说明", "Note"),
    "case.add_photos": ("拍照 / 选择照片（{n}）", "Take / pick photos ({n})"),
    "case.add_after_photos": ("拍处置后照片（{n}）", 'Take "after" photos ({n})'),
    "case.submit": ("提交", "Submit"),
    "case.cancel": ("取消", "Cancel"),
    "case.timeline": ("处置记录", "Timeline"),
    "case.photo_missing": ("照片未下载", "Photo not downloaded"),
    "case.verify_ok": (
        "处置后照片距原位置 {m} 米（50 米内）",
        "The after photo is {m} m from the original point (within 50 m)",
    ),
    "case.verify_far": (
        "处置后照片距原位置 {m} 米，超过 50 米：须说明理由",
        "The after photo is {m} m away, over 50 m: give a reason",
    ),
    "case.verify_unknown": (
        "无法比对处置后照片的位置：须说明理由",
        "The after photo's position is unknown: give a reason",
    ),
    "case.error.reason_required": ("请填写理由", "Give a reason"),
    "case.error.after_photo_required": ("请拍处置后照片", "Add an after photo"),
    "case.error.verify_reason_required": (
        "处置后照片不在原位置 50 米内，请说明理由",
        "The after photo is not within 50 m: give a reason",
    ),
    "case.error.note_empty": ("请填写说明或添加照片", "Write a note or add a photo"),
    # statuses, actions, events
    "status.discovered": ("待交办", "Discovered"),
    "status.assigned": ("已交办", "Assigned"),
    "status.accepted": ("已签收", "Accepted"),
    "status.handling": ("处置中", "Handling"),
    "status.handled": ("待核查", "Reported back"),
    "status.closed": ("已结案", "Closed"),
    "status.cancelled": ("已撤销", "Cancelled"),
    "status.merged": ("已合并", "Merged"),
    "action.assign": ("交办", "Assign"),
    "action.accept": ("签收", "Accept"),
    "action.return": ("退回", "Return"),
    "action.start_handling": ("开始处置", "Start handling"),
    "action.report_back": ("处置反馈", "Report back"),
    "action.close": ("核查通过，结案", "Verify and close"),
    "action.send_back": ("核查不通过，返工", "Send back for rework"),
    "action.raise_dispute": ("提出异议", "Raise a dispute"),
    "event.CaseCreated": ("巡查登记", "Recorded"),
    "event.NoteAdded": ("进展记录", "Progress note"),
    "event.PhotoAdded": ("添加照片", "Photo added"),
    "event.CaseAssigned": ("交办", "Assigned"),
    "event.CaseAccepted": ("签收", "Accepted"),
    "event.CaseReturned": ("退回", "Returned"),
    "event.HandlingStarted": ("开始处置", "Handling started"),
    "event.CaseReportedBack": ("处置反馈", "Reported back"),
    "event.CaseClosed": ("结案", "Closed"),
    "event.CaseSentBack": ("返工", "Sent back"),
    "event.DisputeRaised": ("提出异议", "Dispute raised"),
    "event.RejectedActionEvidenceKept": (
        "被拒操作（证据已保留）",
        "Refused action (evidence kept)",
    ),
    "event.AssistTaskCreated": ("协办任务", "Assisting task"),
    # settings
    "settings.title": ("设置", "Settings"),
    "settings.language": ("界面语言", "Language"),
    "settings.server": ("服务器地址", "Server address"),
    "settings.account": ("当前用户", "Signed in as"),
    "settings.sign_out": ("退出登录", "Sign out"),
    "settings.secure_storage": ("令牌保存位置", "Token stored in"),
    "settings.storage.secure": ("安全存储", "secure storage"),
    "settings.storage.memory": ("仅本次会话", "this session only"),
    # roles
    "role.inspector": ("巡查员", "Inspector"),
    "role.handler": ("部门经办人", "Department handler"),
    "role.supervisor": ("督办", "Supervisor"),
    "role.coordinator": ("编办协调", "Coordinator"),
    "role.admin": ("管理员", "Administrator"),
    # languages, each named in itself
    "lang.zh-CN": ("中文", "中文"),
    "lang.en": ("English", "English"),
    # dispute (case detail's dispute form and the 异议 screen, fieldapp/screens/dispute.py)
    "case.legal_basis": ("法律依据", "Legal basis"),
    "case.legal_basis_hint": (
        "写明法律法规条款或部门“三定”规定",
        "Name the law, regulation or the department's mandate",
    ),
    "case.error.legal_basis_required": ("请填写法律依据", "Give the legal basis"),
    "event.DisputeEscalated": ("异议提交下一阶段", "Dispute escalated"),
    "event.DisputeRuled": ("异议已认定，主办部门", "Dispute ruled; lead department"),
    "event.ConsultationCalled": ("召集协商", "Consultation called"),
    "event.RulingRefused": ("拒不执行认定", "Ruling refused"),
    "case.open_dispute": ("查看异议处理进度", "Dispute: stage and positions"),
    "dispute.title": ("异议 · {number}", "Dispute · {number}"),
    "dispute.loading": ("正在加载…", "Loading…"),
    "dispute.offline": (
        "需要网络：异议处理须连接服务器，连网后重试",
        "Needs the network: disputes are handled online; retry when online",
    ),
    "dispute.server_fault": ("服务器出错，请稍后重试", "The server failed: try again later"),
    "dispute.retry": ("重试", "Try again"),
    "dispute.none": ("该案件没有异议", "This case has no dispute"),
    "dispute.work_goes_on": (
        "异议期间处置不停：案件{status}，办结时限 {due}",
        "Work goes on during the dispute: the case is {status}, due {due}",
    ),
    "dispute.card": ("异议", "Dispute"),
    "dispute.stage.consultation": ("主办协商", "Consultation by the lead"),
    "dispute.stage.coordination": ("编办协调", "Coordination by the establishment office"),
    "dispute.stage.ruling": ("联合会商认定", "Ruling by the joint group"),
    "dispute.stage_due": ("本阶段时限", "This stage is due"),
    "dispute.overdue": ("本阶段已超时", "This stage is overdue"),
    "dispute.suspended": ("已中止：{reason}", "Suspended: {reason}"),
    "dispute.raised_by": ("提出部门", "Raised by"),
    "dispute.reason": ("理由", "Reason"),
    "dispute.claimed": ("认为应由", "Should be handled by"),
    "dispute.positions": ("涉及部门及意见", "Departments involved and their positions"),
    "dispute.raised_it": ("（提出方）", " (raised it)"),
    "dispute.position.not_ours": ("不属于本部门", "Not ours"),
    "dispute.position.accepts": ("认可", "Accepts"),
    "dispute.position.none": ("未表态", "No position yet"),
    "dispute.basis_line": ("依据：{basis}", "Basis: {basis}"),
    "dispute.no_steps": (
        "本阶段您无需操作，请继续履职",
        "Nothing for you to do at this stage: keep working on the case",
    ),
    "dispute.step.position": ("陈述本部门意见", "State our position"),
    "dispute.step.consult": ("召集协商", "Call a consultation"),
    "dispute.step.escalate.coordination": ("提交编办协调", "Escalate to the establishment office"),
    "dispute.step.escalate.ruling": ("提交联合会商认定", "Escalate to the joint group's ruling"),
    "dispute.step.settle.consultation": ("记录协商结果", "Record the agreement"),
    "dispute.step.settle.coordination": ("记录协调结果", "Record the coordination result"),
    "dispute.step.settle.ruling": ("作出认定", "Rule"),
    "dispute.step.suspend": ("中止异议", "Suspend the dispute"),
    "dispute.step.resume": ("恢复异议", "Resume the dispute"),
    "dispute.done.position": ("已提交本部门意见", "Position stated"),
    "dispute.done.consult": ("已召集协商", "Consultation called"),
    "dispute.done.escalate": ("已提交下一阶段", "Escalated"),
    "dispute.done.settle": ("已认定，案件已改派", "Ruled: the case is reassigned"),
    "dispute.done.suspend": ("异议已中止", "Dispute suspended"),
    "dispute.done.resume": ("异议已恢复", "Dispute resumed"),
    "dispute.consult_who": ("参加协商的部门", "Departments to consult"),
    "dispute.note": ("说明（可选）", "Note (optional)"),
    "dispute.escalate_reason": ("理由（可选）", "Reason (optional)"),
    "dispute.suspend_reason": ("中止理由", "Why suspend"),
    "dispute.responsible": ("认定主办部门", "Lead department ruled responsible"),
    "dispute.assisting": ("协办部门及职责", "Assisting departments and duties"),
    "dispute.duty_of": ("{department}职责", "{department}: duty"),
    "dispute.facts": ("基本事实", "Facts"),
    "dispute.ruling_text": ("认定意见", "Ruling"),
    "dispute.publish": (
        "同时调整职责边界清单（一事一议，发布新版本）",
        "Also amend the boundary list (publish a new version)",
    ),
    "dispute.publish_hint": (
        "本事项的主办、协办和依据将按本认定写入清单新版本",
        "The matter's lead, assisting duties and basis go into a new list version",
    ),
    "dispute.ruled": ("认定结果", "Ruling"),
    "dispute.lost_by": ("异议未获支持", "Dispute not upheld for"),
    "dispute.new_version": ("职责边界清单已更新为第 {n} 版", "Boundary list updated: v{n}"),
    "dispute.minute_ready": ("会议纪要已生成", "Minute generated"),
    "dispute.minute_file": ("纪要编号 {file}（.docx）", "Minute no. {file} (.docx)"),
    "dispute.error.choose_position": (
        "请选择：不属于本部门或认可",
        "Choose: not ours, or accept",
    ),
    "dispute.error.reason_required": ("请填写理由", "Give a reason"),
    "dispute.error.legal_basis_required": ("请填写法律依据", "Give the legal basis"),
    "dispute.error.departments_required": (
        "请至少选择一个部门",
        "Choose at least one department",
    ),
    "dispute.error.responsible_required": ("请选择主办部门", "Choose the lead department"),
    "dispute.error.duty_required": ("请填写职责", "Write the duty"),
    "dispute.error.facts_required": ("请填写基本事实", "Write the facts"),
    "dispute.error.ruling_required": ("请填写认定意见", "Write the ruling"),
    # 督办看板 (screens/dashboard.py) and 通知 (screens/notifications.py)
    "nav.dashboard": ("看板", "Dashboard"),
    "dashboard.title": ("督办看板", "Supervision dashboard"),
    "dashboard.period.month": ("本月", "This month"),
    "dashboard.period.quarter": ("本季度", "This quarter"),
    "dashboard.period.year": ("本年", "This year"),
    "dashboard.not_allowed": (
        "仅督办、编办和管理员可查看督办看板",
        "Only supervisors, coordinators and administrators see the dashboard",
    ),
    "online.offline": (
        "需要网络：无法连接服务器，连网后重试",
        "Needs the network: cannot reach the server; retry when online",
    ),
    "online.failed": ("服务器出错，请稍后再试", "The server failed; try again later"),
    "online.retry": ("重试", "Retry"),
    "online.loading": ("正在加载…", "Loading…"),
    "dashboard.over_time": ("案件状态趋势", "Cases by status over time"),
    "dashboard.over_time.empty": ("本期暂无案件", "No cases in this period"),
    "dashboard.on_time": ("各部门按时办结率", "On-time closure rate by department"),
    "dashboard.on_time.row": (
        "{rate}（按时 {on_time}/{sample} 件）",
        "{rate} ({on_time}/{sample} on time)",
    ),
    "dashboard.on_time.none": ("本期暂无到期案件", "Nothing came due in this period"),
    "dashboard.on_time.period": ("统计期 {label}", "Period {label}"),
    "dashboard.hotspots": ("高发点位", "Hotspots"),
    "dashboard.hotspots.none": ("本期暂无高发点位", "No hotspots in this period"),
    "dashboard.hotspot.row": (
        "{reports} 次上报 · {cases} 件案件",
        "{reports} reports · {cases} cases",
    ),
    "dashboard.hotspot.at": ("坐标 {lat}, {lon}", "At {lat}, {lon}"),
    "dashboard.board": ("超期督办（按部门）", "Overdue by department"),
    "dashboard.board.none": ("暂无超期或即将到期案件", "Nothing overdue or due soon"),
    "dashboard.board.overdue": ("超期 {n}", "{n} overdue"),
    "dashboard.board.due_soon": ("即将到期 {n}", "{n} due soon"),
    "dashboard.board.disputed": ("其中有异议 {n}", "{n} disputed"),
    "notice.title": ("通知", "Notifications"),
    "notice.none": ("暂无通知", "No notifications"),
    "notice.unread": ("未读", "Unread"),
    "notice.open_case": ("案件 {number}", "Case {number}"),
    "notice.bell": ("通知（{n} 条未读）", "Notifications ({n} unread)"),
    "notice.kind.assist_task": ("协办任务", "Assisting task"),
    "notice.kind.assist_reported": ("协办反馈", "Assisting report"),
    "notice.kind.consultation": ("召集协商", "Consultation"),
    "notice.kind.dispute_raised": ("异议", "Dispute raised"),
    "notice.kind.dispute_escalated": ("异议升级", "Dispute escalated"),
    "notice.kind.dispute_ruled": ("异议认定", "Dispute ruled"),
    "notice.kind.ruling_refused": ("拒不执行认定", "Ruling refused"),
    "notice.kind.escalation": ("催办督办", "Escalation"),
    "notice.kind.escalation_due_soon": ("即将到期", "Due soon"),
    "notice.kind.joint_session": ("联合办公", "Joint session"),
    "notice.kind.case_returned": ("案件退回", "Case returned"),
    "notice.kind.repeat_reported": ("问题复发", "Reported again"),
    "notice.kind.other": ("通知", "Notice"),
    # generic
    "common.not_found": ("页面不存在", "Page not found"),
}


def t(key: str, lang: Lang | str = DEFAULT_LANG, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``.

    Raises ``KeyError`` naming the key when it is unknown, so a typo fails in tests rather
    than showing a raw key to a user.
    """
    try:
        zh, en = MESSAGES[key]
    except KeyError:
        raise KeyError(f"no UI text for key {key!r}") from None
    text = en if Lang(lang) is Lang.EN else zh
    return text.format(**values) if values else text


def other_lang(lang: Lang) -> Lang:
    """The language a one-tap toggle switches to."""
    return Lang.EN if lang is Lang.ZH else Lang.ZH


def label_for(prefix: str, value: str, lang: Lang | str = DEFAULT_LANG) -> str:
    """The label of an enum-like ``value`` (``label_for("role", "inspector")`` → 巡查员),
    or ``value`` itself when there is no text for it (a newer server may send new values)."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in MESSAGES else value
