"""The indicators and risk tier of SPEC §4–5 written the way an analyst would in plain pandas:
the benchmark's baseline for `fiscal metrics`, and a second reading of the specification.

    python scripts/pandas_metrics.py --data DIR --as-of YYYY-MM-DD [--policy FILE]

Reads the lake's current parquet files (only the columns needed) and prints the same JSON
array as `python -m fiscal metrics --format json`: the same keys in the same order, sorted by
tier descending then county_code. Vectorised throughout (merge_asof, groupby; no loop per
county or row) and no DuckDB. `reasons` is simplified: one "indicator value" string per
indicator with a severity, without the line it crossed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Only the current parquet files and the words: the computation is this file's own.
from fiscal.lake import Lake  # noqa: E402
from fiscal.vocabulary import COVERAGE_BANDS, PAYDAY_STATUS_LABELS, TIER_LABELS  # noqa: E402

KEYS = ["county_code", "county_name", "city_name", "as_of",
        "treasury_date", "treasury_balance", "avg_monthly_outflow", "coverage_months", "coverage_band",
        "last_payday", "last_payday_amount", "last_payday_status", "last_payday_ratio", "last_payday_shortfall",
        "next_payday", "next_payday_amount", "next_payday_status", "next_payday_ratio",
        "revenue_month", "revenue_progress", "time_progress", "revenue_gap_pp",
        "payroll_cover_3m", "advances_ratio", "tier", "tier_label", "reasons"]
INDICATORS = {"coverage_months": "库款保障水平", "last_payday_status": "上一发薪日", "next_payday_status": "下一发薪日",
              "payroll_cover_3m": "未来三个月工资保障", "revenue_gap_pp": "收入进度差（百分点）",
              "advances_ratio": "暂付款比例"}
DATES = {"treasury": "date", "payroll_account": "date", "payroll_schedule": "payday"}


def read(files: dict[str, list[str]], kind: str, columns: list[str]) -> pd.DataFrame:
    if files.get(kind):
        # Dates as datetime64, not Python date objects (what merge_asof and .dt need).
        frame = pd.concat([pd.read_parquet(f, columns=columns, to_pandas_kwargs={"date_as_object": False})
                           for f in files[kind]], ignore_index=True)
    else:  # a kind never uploaded: no rows, so every indicator that needs it is null
        frame = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == DATES.get(kind) else "float64")
                              for c in columns})
    if kind in DATES:
        frame[DATES[kind]] = frame[DATES[kind]].astype("datetime64[ns]")
    frame["county_code"] = frame["county_code"].astype(str)
    return frame


def month_number(dates):
    """Calendar months counted from year 0, so that "the 12 months before" is plain arithmetic."""
    dates = getattr(dates, "dt", dates)
    return dates.year * 12 + dates.month - 1


def balance_at(account: pd.DataFrame, queries: pd.DataFrame, on: str) -> pd.Series:
    """bal(payroll_account, queries[on]) per query row, missing → 0 (SPEC §4 M3/M5); `account` sorted by date."""
    left = queries[["county_code", on]].reset_index().astype({on: "datetime64[ns]"}).sort_values(on)
    right = account.rename(columns={"date": on})
    matched = pd.merge_asof(left, right, on=on, by="county_code", direction="backward")
    return matched.set_index("index")["balance"].reindex(queries.index).fillna(0.0)


def with_balances(paydays: pd.DataFrame, account: pd.DataFrame, as_of: pd.Timestamp,
                  lead: pd.Timedelta) -> pd.DataFrame:
    """Each payday with bal(payroll_account, ·) at its cutoff, the day before it and A."""
    paydays = paydays.reset_index().assign(cutoff=paydays["payday"].to_numpy() - lead,
                                           day_before=paydays["payday"].to_numpy() - pd.Timedelta(days=1),
                                           as_of=as_of)
    for column in ("cutoff", "day_before", "as_of"):
        paydays[f"bal_{column}"] = balance_at(account, paydays, column)
    return paydays.set_index("county_code")


def metrics(data: Path, as_of: pd.Timestamp, policy: dict) -> pd.DataFrame:
    files = Lake(data).snapshot().files
    out = read(files, "counties", ["county_code", "county_name", "city_name"]).set_index("county_code")
    treasury = read(files, "treasury", ["county_code", "date", "balance", "inflow", "outflow"])
    account = read(files, "payroll_account", ["county_code", "date", "balance"]).sort_values("date")
    schedule = read(files, "payroll_schedule", ["county_code", "payday", "amount_due"])
    revenue = read(files, "revenue", ["county_code", "year", "month", "budget", "actual_ytd"])
    advances = read(files, "advances", ["county_code", "year", "month", "advances_balance",
                                        "general_exp_ytd", "fund_exp_ytd"])
    out["as_of"] = as_of.strftime("%Y-%m-%d")

    # M1: the latest treasury row on or before A.
    upto = treasury[treasury["date"] <= as_of]
    latest = upto.loc[upto.groupby("county_code")["date"].idxmax()].set_index("county_code")
    out["treasury_date"] = latest["date"]
    out["treasury_balance"] = latest["balance"]

    # M2: monthly outflow over the calendar months before A's month that have treasury rows.
    month = month_number(as_of)
    treasury["month"] = month_number(treasury["date"])
    window = treasury[(treasury["month"] >= month - policy["coverage"]["history_months"])
                      & (treasury["month"] < month)]
    monthly = window.groupby(["county_code", "month"])[["inflow", "outflow"]].sum()
    history = monthly.groupby("county_code").agg(months=("outflow", "size"), avg_in=("inflow", "mean"),
                                                 avg_out=("outflow", "mean"))
    history = history[history["months"] >= policy["coverage"]["min_history_months"]]
    out["avg_monthly_outflow"] = history["avg_out"]
    out["coverage_months"] = (out["treasury_balance"] / out["avg_monthly_outflow"].replace(0.0, np.nan))
    cov = out["coverage_months"]
    line = policy["coverage"]
    out["coverage_band"] = np.select(
        [cov < line["warning_line"], cov < line["prompt_line"], cov <= line["idle_line"], cov > line["idle_line"]],
        [band.label for band in COVERAGE_BANDS], default=None)

    # M3: the last payday (latest P ≤ A) and the next one (earliest P > A).
    lead = pd.Timedelta(days=policy["payroll"]["lead_days"])
    schedule = schedule.sort_values("payday")
    last = schedule[schedule["payday"] <= as_of].groupby("county_code").tail(1).set_index("county_code")
    following = schedule[schedule["payday"] > as_of].groupby("county_code").head(1).set_index("county_code")
    last, following = with_balances(last, account, as_of, lead), with_balances(following, account, as_of, lead)
    due = last["amount_due"]
    last["status"] = np.select([last["bal_cutoff"] >= due, last["bal_day_before"] >= due],
                               ["funded_on_time", "funded_late"], "shortfall")
    last["ratio"] = last["bal_cutoff"] / due
    last["shortfall"] = np.where(last["status"] == "shortfall", due - last["bal_day_before"], 0.0)
    due = following["amount_due"]
    pending = following["cutoff"] > as_of
    following["status"] = np.select([pending, following["bal_cutoff"] >= due, following["bal_as_of"] >= due],
                                    ["pending", "funded_on_time", "funded_late"], "overdue")
    following["ratio"] = np.where(pending, following["bal_as_of"], following["bal_cutoff"]) / due
    out["last_payday"] = last["payday"]
    out["last_payday_amount"] = last["amount_due"]
    out["last_payday_status"] = last["status"]
    out["last_payday_ratio"] = last["ratio"]
    out["last_payday_shortfall"] = last["shortfall"]
    out["next_payday"] = following["payday"]
    out["next_payday_amount"] = following["amount_due"]
    out["next_payday_status"] = following["status"]
    out["next_payday_ratio"] = following["ratio"]

    # M4: revenue progress at the latest month ≤ month(A) of year(A), all categories summed.
    year = revenue[(revenue["year"] == as_of.year) & (revenue["month"] <= as_of.month)]
    year = year[year["month"] == year.groupby("county_code")["month"].transform("max")]
    progress = year.groupby("county_code").agg(month=("month", "first"), budget=("budget", "sum"),
                                               actual=("actual_ytd", "sum"))
    out["revenue_month"] = progress["month"].astype("Int64")
    out["revenue_progress"] = progress["actual"] / progress["budget"]
    out["time_progress"] = progress["month"] / 12
    # Rounded to 1e-9 pp: 100 × (0.42 − 6/12) is −8.000000000000002 in floating point, and a gap
    # of exactly −8 pp is not below the −8 line.
    out["revenue_gap_pp"] = (100 * (out["revenue_progress"] - out["time_progress"])).round(9)

    # M5: can the next months' payroll be paid if cash flows look like the past?
    forward = policy["forward"]["months"]
    paid = schedule.assign(month=month_number(schedule["payday"]))
    paid = paid.groupby(["county_code", "month"])["amount_due"].sum()
    history_payroll = paid.reindex(monthly.index).fillna(0.0).groupby("county_code").mean()
    horizon = as_of + pd.DateOffset(months=forward)
    need = schedule[(schedule["payday"] > as_of) & (schedule["payday"] <= horizon)]
    need = need.groupby("county_code")["amount_due"].sum()
    out["need"] = need.reindex(out.index).fillna(0.0)
    account_now = balance_at(account, pd.DataFrame({"county_code": out.index, "as_of": as_of}), "as_of")
    available = (out["treasury_balance"].fillna(0.0) + account_now.to_numpy()
                 + forward * (history["avg_in"] - (history["avg_out"] - history_payroll.reindex(history.index))))
    out["payroll_cover_3m"] = available / out["need"].replace(0.0, np.nan)

    # M6: advances over last year's full-year spending, or this year's annualised.
    rows = advances[(advances["year"] == as_of.year) & (advances["month"] <= as_of.month)]
    rows = rows.sort_values("month").groupby("county_code").tail(1).set_index("county_code")
    previous = advances[(advances["year"] == as_of.year - 1) & (advances["month"] == 12)].set_index("county_code")
    spent = rows["general_exp_ytd"] + rows["fund_exp_ytd"]
    denominator = (previous["general_exp_ytd"] + previous["fund_exp_ytd"]).reindex(rows.index)
    denominator = denominator.fillna(spent * 12 / rows["month"])
    out["advances_ratio"] = rows["advances_balance"] / denominator.replace(0.0, np.nan)

    out = out.reset_index()
    severity = severities(out, policy)
    count_warnings = (severity == 2).sum(axis=1)
    out["tier"] = severity.max(axis=1).where(count_warnings < policy["tier"]["focus_when_warnings"], 3).astype(int)
    out["tier_label"] = out["tier"].map(TIER_LABELS)
    out["reasons"] = reasons(out, severity)
    out = out.sort_values(["tier", "county_code"], ascending=[False, True])
    for column in ("treasury_date", "last_payday", "next_payday"):
        out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out[KEYS]


def severities(out: pd.DataFrame, policy: dict) -> pd.DataFrame:
    """One column per indicator of SPEC §5; a null indicator adds nothing (comparisons are False)."""
    s = policy["severity"]
    cov, gap = out["coverage_months"], out["revenue_gap_pp"]
    return pd.DataFrame({
        "coverage_months": np.select([cov < policy["coverage"]["warning_line"], cov < policy["coverage"]["prompt_line"]],
                                     [s["coverage_warning"], s["coverage_prompt"]], 0),
        "last_payday_status": np.select([out["last_payday_status"] == "shortfall",
                                         out["last_payday_status"] == "funded_late"],
                                        [s["last_payday_shortfall"], s["last_payday_late"]], 0),
        "next_payday_status": np.select([out["next_payday_status"] == "overdue",
                                         out["next_payday_status"] == "funded_late"],
                                        [s["next_payday_overdue"], s["next_payday_late"]], 0),
        "payroll_cover_3m": np.where(out["payroll_cover_3m"] < policy["forward"]["warning_line"],
                                     s["forward_warning"], 0),
        "revenue_gap_pp": np.select([gap < policy["revenue"]["warning_gap_pp"], gap < policy["revenue"]["prompt_gap_pp"]],
                                    [s["revenue_warning"], s["revenue_prompt"]], 0),
        "advances_ratio": np.where(out["advances_ratio"] > policy["advances"]["cap"], s["advances_over_cap"], 0),
    }, index=out.index)


def reasons(out: pd.DataFrame, severity: pd.DataFrame) -> pd.Series:
    """Simplified reasons: "indicator value" for every indicator with a severity (no line crossed)."""
    flagged = severity.stack()
    flagged = flagged[flagged > 0].reset_index()
    flagged.columns = ["row", "indicator", "severity"]
    values = out[severity.columns].stack().rename("value").reset_index()
    values.columns = ["row", "indicator", "value"]
    flagged = flagged.merge(values, on=["row", "indicator"])
    flagged["value"] = flagged["value"].replace(PAYDAY_STATUS_LABELS)
    flagged["text"] = flagged["indicator"].map(INDICATORS) + " " + flagged["value"].astype(str)
    listed = flagged.groupby("row")["text"].agg(list)
    return listed.reindex(out.index).apply(lambda v: v if isinstance(v, list) else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--as-of", required=True, type=pd.Timestamp)
    parser.add_argument("--policy", type=Path, default=ROOT / "data" / "policy.toml")
    args = parser.parse_args()
    policy = tomllib.loads(args.policy.read_text(encoding="utf-8"))
    frame = metrics(args.data, args.as_of, policy)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    sys.stdout.write(json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
