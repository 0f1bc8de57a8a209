"""The six extract kinds of SPEC §3: columns, Chinese header aliases, keys and types.

This is the single description of the data contract; ingest, validation, the lake and
the demo generator all read it.
"""
from __future__ import annotations

from dataclasses import dataclass

# Column types: "code" (6-digit string), "text", "date", "amount" (万元, DOUBLE),
# "int" (year, month, headcount), "number" (population): pyarrow type names.
ARROW_TYPES = {"code": "string", "text": "string", "date": "date32", "amount": "float64",
               "int": "int32", "number": "float64"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    label: str  # Chinese label used in messages and tables
    aliases: tuple[str, ...] = ()
    required: bool = True
    positive: bool = False  # amounts that must be > 0 rather than ≥ 0


@dataclass(frozen=True)
class ExtractKind:
    name: str
    label: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...]
    # Stored in the order of this column: a daily table kept in date order lets a reader that
    # wants a few dates (the balance on A, at a payday's cutoff) skip the other row groups.
    clustered_by: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def amount_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "amount"]

    @property
    def date_key(self) -> str | None:
        """The key column that is a date (a daily table's date, a payday), if any."""
        return next((k for k in self.keys if self.column(k).kind == "date"), None)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def arrow_schema(self):
        import pyarrow as pa  # not at import time: `fiscal metrics` never needs it

        return pa.schema([pa.field(c.name, getattr(pa, ARROW_TYPES[c.kind])()) for c in self.columns])


COUNTY_CODE = Column("county_code", "code", "区划代码", ("区划代码", "行政区划代码", "县区代码", "县区编码", "区划编码"))
DATE = Column("date", "date", "日期", ("日期", "业务日期", "统计日期"))
YEAR = Column("year", "int", "年度", ("年度", "年份", "年"))
MONTH = Column("month", "int", "月份", ("月份", "月"))

KINDS: dict[str, ExtractKind] = {
    k.name: k
    for k in (
        ExtractKind(
            "counties",
            "县区名录",
            (
                COUNTY_CODE,
                Column("county_name", "text", "县区名称", ("县区名称", "区划名称", "县区", "县（市、区）")),
                Column("city_name", "text", "所属市", ("所属市", "地市", "市", "所属地市")),
                Column("population", "number", "人口", ("人口", "户籍人口", "常住人口"), required=False),
            ),
            ("county_code",),
        ),
        ExtractKind(
            "treasury",
            "库款日报",
            (
                COUNTY_CODE,
                DATE,
                Column("balance", "amount", "库款余额", ("库款余额", "期末库款余额", "库款")),
                Column("inflow", "amount", "库款流入", ("库款流入", "本期库款流入", "流入")),
                Column("outflow", "amount", "库款流出", ("库款流出", "本期库款流出", "流出")),
            ),
            ("county_code", "date"),
            clustered_by="date",
        ),
        ExtractKind(
            "payroll_schedule",
            "工资发放计划",
            (
                COUNTY_CODE,
                Column("payday", "date", "发薪日", ("发薪日", "工资发放日", "发放日期")),
                Column("amount_due", "amount", "应发工资", ("应发工资", "工资总额", "应发金额"), positive=True),
                Column("headcount", "int", "人数", ("人数", "供养人数", "发放人数"), required=False),
            ),
            ("county_code", "payday"),
        ),
        ExtractKind(
            "payroll_account",
            "工资专户余额",
            (
                COUNTY_CODE,
                DATE,
                Column("balance", "amount", "专户余额", ("专户余额", "工资专户余额", "保障户余额")),
            ),
            ("county_code", "date"),
            clustered_by="date",
        ),
        ExtractKind(
            "revenue",
            "收入进度",
            (
                COUNTY_CODE,
                YEAR,
                MONTH,
                Column("category", "text", "收入类别", ("收入类别", "科目", "收入项目")),
                Column("budget", "amount", "年初预算", ("年初预算", "预算数", "年度预算"), positive=True),
                Column("actual_ytd", "amount", "累计完成", ("累计完成", "累计收入", "累计完成数")),
            ),
            ("county_code", "year", "month", "category"),
        ),
        ExtractKind(
            "advances",
            "暂付款",
            (
                COUNTY_CODE,
                YEAR,
                MONTH,
                Column("advances_balance", "amount", "暂付款余额", ("暂付款余额", "暂付款")),
                Column("general_exp_ytd", "amount", "一般公共预算支出累计", ("一般公共预算支出累计", "一般公共预算支出")),
                Column("fund_exp_ytd", "amount", "政府性基金预算支出累计", ("政府性基金预算支出累计", "政府性基金预算支出", "政府性基金支出累计")),
            ),
            ("county_code", "year", "month"),
        ),
    )
}

# Order in which a fresh lake is loaded (counties first: every other kind references it).
KIND_ORDER = ("counties", "treasury", "payroll_schedule", "payroll_account", "revenue", "advances")

# Revenue category names that are totals; uploading them would double count.
TOTAL_CATEGORIES = ("合计", "总计", "小计")

UNITS = {"元": 1e-4, "万元": 1.0, "亿元": 1e4}  # factor to 万元
