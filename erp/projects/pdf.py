"""The status report (项目状态报告) as a PDF with reportlab: Chinese text in reportlab's built-in CID font
STSong-Light (no font file to ship), the figures as tables and the risk heatmap as a coloured 5×5 grid. Labels are
bilingual (中文 English) so one file serves every reader."""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
RAG_COLOURS = {"red": colors.HexColor("#dc3545"), "amber": colors.HexColor("#ffc107"),
               "green": colors.HexColor("#198754"), None: colors.HexColor("#adb5bd")}
RAG_LABELS = {"red": "红 Red", "amber": "黄 Amber", "green": "绿 Green", None: "— n/a"}
GRID = [("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    return {"title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, spaceAfter=4),
            "heading": ParagraphStyle("heading", fontName=FONT, fontSize=11.5, leading=16, spaceBefore=8,
                                      spaceAfter=4),
            "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13),
            "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=11)}


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent == -2 else f"{value.normalize():f}"
    return str(value)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def status_report_pdf(report: dict) -> bytes:
    """The report of erp.projects.reports.status_report as PDF bytes."""
    _register_font()
    styles = _styles()
    buffer = BytesIO()
    project = report["project"]
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm,
                                 topMargin=14 * mm, bottomMargin=14 * mm,
                                 title=f"{project['code']} {project['name_zh']} 项目状态报告",
                                 author="ERP", subject="Project status report")
    story = [Paragraph(_escape(f"项目状态报告 Status report · {project['code']} {project['name_zh']}"),
                       styles["title"]),
             Paragraph(_escape(f"{project['name_en']} · 截至 As of {report['as_of'].isoformat()} · "
                               f"项目经理 Manager {project['manager']}"), styles["body"]),
             Spacer(1, 4 * mm)]
    story += _rag(report["rag"], styles)
    story += _section("挣值 Earned value", _evm_table(report["evm"]), styles)
    story += _section("关键绩效指标 KPIs", _kpi_table(report["kpis"]), styles)
    story += _section("里程碑 Milestones", _milestone_table(report), styles)
    story += _section("最高风险 Top risks", _risk_table(report["top_risks"], styles), styles)
    story += _section("风险评估矩阵 Risk matrix (可能性 probability × 影响程度 impact)",
                      heatmap_table(report["heatmap"]), styles)
    story += _section("未解除预警 Open alerts", _alert_table(report["alerts_open"]), styles)
    document.build(story)
    return buffer.getvalue()


def _section(title: str, table, styles) -> list:
    return [Paragraph(_escape(title), styles["heading"]), table]


def _rag(rag: dict, styles) -> list:
    badge = Table([[f"状态 Status: {RAG_LABELS[rag['status']]}"]], colWidths=[60 * mm])
    badge.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 12),
                               ("BACKGROUND", (0, 0), (-1, -1), RAG_COLOURS[rag["status"]]),
                               ("TEXTCOLOR", (0, 0), (-1, -1), colors.white)]))
    reasons = [f"{r['name_zh']} {r['name_en']}: {_text(r['value'])} ({RAG_LABELS[r['status']]})"
               for r in rag["reasons"]] or ["各项指标正常 All indicators on track"]
    return [badge, Spacer(1, 2 * mm), *(Paragraph(_escape("· " + line), styles["body"]) for line in reasons)]


def _table(rows: list[list], widths=None, extra=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*GRID, *extra]))
    return table


def _evm_table(figures: dict) -> Table:
    names = [("bac", "完工预算 BAC"), ("pv", "计划值 PV"), ("ev", "挣值 EV"), ("ac", "实际成本 AC"),
             ("cpi", "成本绩效指数 CPI"), ("spi", "进度绩效指数 SPI"), ("eac", "完工估算 EAC"),
             ("vac", "完工偏差 VAC")]
    return _table([["指标 Figure", "数值 Value"], *([label, _text(figures[key])] for key, label in names)],
                  widths=[60 * mm, 50 * mm], extra=[("ALIGN", (1, 1), (1, -1), "RIGHT")])


def _kpi_table(rows: list[dict]) -> Table:
    body = [[f"{k['name_zh']} {k['name_en']}", _text(k["value"]), _text(k["target"]), _text(k["warning"]),
             _text(k["critical"]), RAG_LABELS[k["status"]]] for k in rows]
    extra = [("BACKGROUND", (5, n), (5, n), RAG_COLOURS[k["status"]]) for n, k in enumerate(rows, start=1)]
    return _table([["指标 KPI", "当前 Value", "目标 Target", "预警 Warning", "临界 Critical", "状态 Status"], *body],
                  widths=[62 * mm, 20 * mm, 20 * mm, 20 * mm, 20 * mm, 26 * mm], extra=extra)


def _milestone_table(report: dict) -> Table:
    rows = [[m["name"], m["due_date"].isoformat(), "逾期 Overdue" if m["overdue"] else "待完成 Due"]
            for m in report["milestones_due"]]
    rows += [[m["name"], m["due_date"].isoformat(), f"已达成 Achieved {m['achieved_on'].isoformat()}"]
             for m in report["milestones_achieved"]]
    return _table([["里程碑 Milestone", "计划日期 Due", "状态 Status"], *(rows or [["—", "", ""]])],
                  widths=[90 * mm, 30 * mm, 50 * mm])


def _risk_table(risks: list[dict], styles) -> Table:
    rows = [[r["code"], Paragraph(_escape(r["title"]), styles["cell"]), r["owner"], str(r["probability"]),
             str(r["impact"]), str(r["score"]), r["status"]] for r in risks]
    return _table([["编号 Code", "风险 Risk", "责任人 Owner", "可能性 P", "影响 I", "分值 Score", "状态 Status"],
                   *(rows or [["—", "", "", "", "", "", ""]])],
                  widths=[18 * mm, 62 * mm, 24 * mm, 16 * mm, 14 * mm, 16 * mm, 22 * mm])


def heat_colour(probability: int, impact: int):
    """The colour of a cell of the risk matrix: red from score 15 (a high risk), amber from 8, else green."""
    score = probability * impact
    return RAG_COLOURS["red"] if score >= 15 else RAG_COLOURS["amber"] if score >= 8 else RAG_COLOURS["green"]


def heatmap_table(counts: list[list[int]]) -> Table:
    """Probability 5 on top down to 1, impact 1 to 5 left to right, each cell coloured by its score."""
    rows = [["P \\ I", *(str(i) for i in range(1, 6))]]
    extra = []
    for line, probability in enumerate(range(5, 0, -1), start=1):
        rows.append([str(probability), *(str(counts[probability - 1][i - 1] or "") for i in range(1, 6))])
        extra += [("BACKGROUND", (i, line), (i, line), heat_colour(probability, i)) for i in range(1, 6)]
    table = Table(rows, colWidths=[14 * mm] + [14 * mm] * 5, rowHeights=[7 * mm] * 6, hAlign="LEFT")
    table.setStyle(TableStyle([*GRID, ("ALIGN", (0, 0), (-1, -1), "CENTER"), ("FONTSIZE", (1, 1), (-1, -1), 11),
                               ("TEXTCOLOR", (1, 1), (-1, -1), colors.white), *extra]))
    return table


def _alert_table(alerts: list[dict]) -> Table:
    rows = [[a["rule"], a["risk"] or "—", _text(a["value"]), _text(a["threshold"]),
             a["raised_at"].strftime("%Y-%m-%d %H:%M")] for a in alerts]
    return _table([["预警规则 Rule", "风险 Risk", "值 Value", "阈值 Threshold", "触发 Raised (UTC)"],
                   *(rows or [["—", "", "", "", ""]])], widths=[62 * mm, 20 * mm, 22 * mm, 24 * mm, 34 * mm])
