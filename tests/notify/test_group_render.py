"""The grouped alert of an upstream outage and its recovery reply, in both languages (pure)."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import translations
from bot.notify.render.group import render_group_alert, render_group_recovery
from bot.notify.render.words import COLORS
from bot.status import Status
from tests.bidi import without_isolates
from tests.notify import samples as s

EN = translations("en", tz="UTC")
AR = translations("ar", tz="Asia/Baghdad", digits="arab")


def plain(text: str) -> str:
    """The words as a reader sees them: no direction marks, ordinary spaces."""
    return without_isolates(text).replace("\u200f", "").replace("\u202f", " ")


def lines(text: str) -> list[str]:
    return [plain(line) for line in text.split("\n")]


def test_the_grouped_alert_names_the_provider_first_and_every_service_with_its_state() -> None:
    msg = render_group_alert(s.GROUP_OPEN, t=EN, now=s.ESCALATED_AT)
    assert msg.title == "Cloudflare outage — also affecting Discord and X"
    shown = lines(msg.description)
    assert shown[0].startswith("These services rely on Cloudflare")
    assert shown[1:] == [
        "Cloudflare: major outage since 12:20 PM",
        "Discord: partial outage since 12:24 PM",
        "X: major outage since 12:51 PM",
    ]
    assert msg.color == COLORS[Status.MAJOR_OUTAGE]
    assert msg.url == "https://www.cloudflarestatus.com"


def test_a_service_that_recovered_stays_in_the_message_with_how_long_it_was_down() -> None:
    msg = render_group_alert(s.GROUP_RECOVERING, t=EN, now=s.ESCALATED_AT)
    assert "Discord: back at 1:05 PM, after 41 minutes" in lines(msg.description)
    assert "X: major outage since 12:51 PM" in lines(msg.description)
    assert msg.title.startswith("Cloudflare outage")


def test_once_over_the_alert_says_so_and_the_reply_says_how_long_it_lasted() -> None:
    over = render_group_alert(s.GROUP_OVER, t=EN, now=s.RESOLVED_AT)
    assert over.title == "Resolved: the Cloudflare outage that also affected Discord and X"
    assert over.color == COLORS[Status.OPERATIONAL]
    assert "These services rely on" not in over.description
    reply = render_group_recovery(s.GROUP_OVER, t=EN, now=s.RESOLVED_AT)
    assert reply.title == "All services hit by the Cloudflare outage are back"
    first, *rest = lines(reply.description)
    assert first == "The outage lasted 3 hours 12 minutes, from 12:20 PM to 3:32 PM."
    assert rest == [
        "Cloudflare: back at 3:12 PM, after 2 hours 52 minutes",
        "Discord: back at 1:05 PM, after 41 minutes",
        "X: back at 3:32 PM, after 2 hours 41 minutes",
    ]


def test_the_arabic_grouped_alert_reads_as_the_press_writes_it() -> None:
    msg = render_group_alert(s.GROUP_OPEN, t=AR, now=s.ESCALATED_AT)
    assert plain(msg.title) == "انقطاع لدى كلاود فلير يطال أيضًا ديسكورد وإكس"
    shown = lines(msg.description)
    assert shown[0].startswith("تعتمد هذه الخدمات على خدمة كلاود فلير")
    assert shown[1] == "كلاود فلير: انقطاع واسع منذ الساعة ٣:٢٠ م"  # Baghdad time, Eastern Arabic digits
    reply = render_group_recovery(s.GROUP_OVER, t=AR, now=s.RESOLVED_AT)
    assert plain(reply.title) == "عودة جميع الخدمات المتأثرة بانقطاع كلاود فلير"
    assert lines(reply.description)[0].startswith("استمر الانقطاع مدة ٣ ساعات")


def test_a_day_later_the_times_carry_their_date() -> None:
    msg = render_group_alert(s.GROUP_OPEN, t=EN, now=s.ESCALATED_AT + timedelta(days=1))
    assert "Cloudflare: major outage since Mar 10 at 12:20 PM" in lines(msg.description)


# -- the official page's grade in /isitdown (issue 17 item 4) ---------------------------------


def test_isitdown_shows_the_status_pages_grade_once_there_is_enough_to_grade() -> None:
    from bot.detect.track_record import PastIncident, track_record
    from bot.notify.render import render_verdict

    def past(delays: list[int | None]) -> list[PastIncident]:
        out = []
        for n, delay in enumerate(delays):
            start = s.STARTED - timedelta(days=n + 1)
            out.append(PastIncident(start, None if delay is None else start + timedelta(minutes=delay), start + timedelta(hours=1)))
        return out

    record = track_record(past([10, 20, None, 14]), s.STARTED)
    field = dict(render_verdict(s.VERDICT_OK, s.X, t=EN, now=s.RESOLVED_AT, record=record).fields)["Status page track record"]
    assert plain(field) == "Grade C: acknowledged 3 of 4 outages in the last 90 days. Typically 14 minutes after users noticed."
    arabic = {plain(k): v for k, v in render_verdict(s.VERDICT_OK, s.X, t=AR, now=s.RESOLVED_AT, record=record).fields}
    assert plain(arabic["سجل صفحة الحالة الرسمية"]).startswith("التقييم C: أقرّت الصفحة بـ٣ من أصل ٤ انقطاعات خلال آخر ٩٠ يومًا.")
    # a page that acknowledged none of them says so, not "0 of 12"
    silent = track_record(past([None] * 12), s.STARTED)
    field = dict(render_verdict(s.VERDICT_OK, s.X, t=EN, now=s.RESOLVED_AT, record=silent).fields)["Status page track record"]
    assert plain(field).startswith("Grade F: acknowledged none of its 12 outages in the last 90 days.")
    arabic = {plain(k): v for k, v in render_verdict(s.VERDICT_OK, s.X, t=AR, now=s.RESOLVED_AT, record=silent).fields}
    assert plain(arabic["سجل صفحة الحالة الرسمية"]).startswith("التقييم F: لم تُقرّ الصفحة بأيٍّ من ١٢ انقطاعًا خلال آخر ٩٠ يومًا.")
    # too few incidents to grade: nothing said
    few = track_record(past([10, 20]), s.STARTED)
    assert "Status page track record" not in dict(render_verdict(s.VERDICT_OK, s.X, t=EN, now=s.RESOLVED_AT, record=few).fields)


def test_the_grouped_alert_tells_who_reports_and_what_ioda_says() -> None:
    from dataclasses import replace

    crowded = replace(s.GROUP_OPEN, members=tuple(replace(m, crowd=s.CROWD) for m in s.GROUP_OPEN.members), internet=s.NATIONAL_IQ)
    msg = render_group_alert(crowded, t=EN, now=s.ESCALATED_AT)
    shown = lines(msg.description)
    assert shown[-2].startswith("Reports from 8 countries: United States, Germany, India…")
    assert shown[-1].startswith("Internet connectivity in Iraq is disrupted nationwide")
    [(name, value)] = msg.fields
    assert name == "User reports" and len(value.split("\n")) == 2 and value.startswith("Discord: ")
    # once over, neither: the reply tells how long it lasted
    assert not render_group_alert(replace(crowded, over=True), t=EN, now=s.RESOLVED_AT).fields


def test_an_alert_taken_into_the_grouped_message_points_at_it() -> None:
    from bot.notify.render.group import render_group_pointer

    link = "https://discord.com/channels/1/2/3"
    msg = render_group_pointer(s.DISCORD, s.CLOUDFLARE, link, t=EN, now=s.ESCALATED_AT)
    assert msg.title == "Discord: part of the Cloudflare outage" and msg.description.endswith(f"[Go to that message]({link})")
    arabic = render_group_pointer(s.DISCORD, s.CLOUDFLARE, link, t=AR, now=s.ESCALATED_AT)
    assert plain(arabic.title) == "خدمة ديسكورد ضمن انقطاع كلاود فلير" and f"]({link})" in arabic.description


def test_works_for_me_shows_as_a_share_of_everyone_who_answered() -> None:
    from dataclasses import replace

    from bot.notify.render import render_alert

    crowd = replace(s.CROWD, works=s.CROWD.reports // 4)  # a fifth of those who answered
    fields = dict(render_alert(replace(s.ALERT, evidence=(crowd,)), s.X, t=EN, now=s.OPENED_AT).fields)
    assert "20% say it works for them" in fields["User reports"]
    arabic = {plain(k): plain(v) for k, v in render_alert(replace(s.ALERT, evidence=(crowd,)), s.X, t=AR, now=s.OPENED_AT).fields}
    assert "٢٠٪ من المجيبين يقولون إنها تعمل عندهم" in arabic["بلاغات المستخدمين"]
