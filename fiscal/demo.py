"""Deterministic synthetic demo data (演示数据) for the 三保 liquidity dashboard.

Everything here is fictional: county codes start with "99" (no real province uses it),
names are 演示县01…, cities 演示甲市… (演示市001… when more than ten are needed).
`build_frames()` returns one DataFrame per extract kind of `fiscal.extracts.KINDS`, with
exactly the canonical columns and types, covering Jan 1 of (end.year − years + 1)
through `end`. The same arguments always give the same frames; nothing depends on
today's date (`DEMO_END` is fixed).

Units: amounts in 万元; `population` in 万人. Working days are Monday–Friday (no
holiday calendar).

How the data is built (each county has a profile drawn from the seed):
- treasury: outflow = non-payroll spending (seasonal; December ≈ 1.5–2× a normal month,
  heavier towards month end) + the transfers into the payroll account on the deposit
  days. A month-end coverage path (balance / mean outflow of the previous 12 months) is
  planned per county and each month's inflow is whatever reaches it; inside the month
  inflow is a mix of funds drawn as spending needs them, tax receipts (heavier around
  the 15th filing deadline) and 1–2 lump transfers from the province, moved towards the
  month's first day where needed to keep the balance near its path. Balances are
  running sums of the rounded flows, so continuity holds to the cent.
- payroll: a fixed payday each month (day 7–15, moved back to Friday at weekends),
  amount ≈ 25–35 % of a normal month's outflow; each county fills the account a fixed
  8–12 days before payday and it drops to 0 on payday. About 3 % of past paydays are
  funded late (never the last one before `end` for untroubled counties). The deposit
  for the very first payday may be dated in the last days of the year before the data
  starts (it is not in the treasury extract).
- revenue: 税收收入 and 非税收入 against a constant yearly budget (growing 2–6 % a year);
  progress is slow in Q1 with a December catch-up.
- advances: general + fund expenditure YTD = cumulative treasury outflow (fund ≈ 20–40 %
  of general); the advances balance follows a planned ratio to the previous year's
  expenditure.

Profiles at as-of = `end` (counts for 30 counties, giving tiers 18 / 7 / 3 / 2 at
DEMO_END; they scale with counties / 30, at least one each, and which counties get
them is chosen by the seed):
  normal (15)          coverage 0.56–0.76, revenue within ±6 pp, advances 1.2–3.8 % → 正常
  idle (3)             coverage 0.9–1.4 (闲置, no severity)                         → 正常
  low_cash (2)         coverage 0.34–0.46 (偏低)                                     → 提示
  revenue_lag (2)      revenue 10–17 pp behind time progress                        → 提示
  advances_high (2)    advances ratio 5.5–7.5 %                                     → 提示
  payroll_late (1)     last payday funded after the T−7 cutoff                      → 提示
  revenue_slump (1)    revenue 22–28 pp behind, advances 5.2–6 %                    → 预警
  drawdown (1)         coverage ≈ 4 a year ago (idle money), spent down to 0.38–0.46;
                       the 3-month payroll cover extrapolates the fall: < 1         → 预警
  payroll_overdue (1)  last three paydays late; the next payday falls within a week
                       after `end` (its payday day may lie outside 7–15), so its T−7
                       cutoff has passed with the account underfunded               → 预警
  payroll_crisis (1)   last payday short, the two before late; coverage 0.18–0.27   → 重点关注
  cash_crisis (1)      coverage 0.18–0.27 and revenue 22–30 pp behind              → 重点关注
Earlier months drift towards these states over the last 4–12 months, so the tier
history shows counties entering the lists. Revenue gaps are capped early in the year
(progress stays ≥ 30 % of time progress), so in January–February a revenue profile
may show a milder tier.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fiscal.extracts import KIND_ORDER, KINDS

DEMO_END = datetime.date(2026, 11, 20)

# role: (counties per 30, end coverage range, end revenue gap range in pp,
#        end advances ratio range). Order = priority when there are few counties.
_NORMAL_COVERAGE = (0.56, 0.76)
_NORMAL_GAP = (-6.0, 6.0)
_NORMAL_ADVANCES = (0.012, 0.038)
_ROLES: dict[str, tuple[int, tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "payroll_crisis": (1, (0.18, 0.27), _NORMAL_GAP, _NORMAL_ADVANCES),
    "payroll_overdue": (1, _NORMAL_COVERAGE, _NORMAL_GAP, _NORMAL_ADVANCES),
    "cash_crisis": (1, (0.18, 0.27), (-30.0, -22.0), _NORMAL_ADVANCES),
    "revenue_slump": (1, _NORMAL_COVERAGE, (-28.0, -22.0), (0.052, 0.060)),
    "drawdown": (1, (0.38, 0.46), _NORMAL_GAP, _NORMAL_ADVANCES),
    "low_cash": (2, (0.34, 0.46), _NORMAL_GAP, _NORMAL_ADVANCES),
    "revenue_lag": (2, _NORMAL_COVERAGE, (-17.0, -10.0), _NORMAL_ADVANCES),
    "advances_high": (2, _NORMAL_COVERAGE, _NORMAL_GAP, (0.055, 0.075)),
    "payroll_late": (1, _NORMAL_COVERAGE, _NORMAL_GAP, _NORMAL_ADVANCES),
    "idle": (3, (0.90, 1.40), _NORMAL_GAP, _NORMAL_ADVANCES),
    "normal": (15, _NORMAL_COVERAGE, _NORMAL_GAP, _NORMAL_ADVANCES),  # all the rest
}
_STEMS = "甲乙丙丁戊己庚辛壬癸"

# Month shape of spending relative to a normal month (Spring Festival dip in Feb,
# quarter ends a bit heavier); December is drawn per county (year-end surge).
_SPEND_SEASON = np.array([0.85, 0.80, 1.00, 0.95, 0.95, 1.05, 0.95, 0.95, 1.05, 0.95, 1.00, np.nan])
# Month-end coverage offsets: quarterly tax months and January transfers lift the
# balance, year-end spending lowers it.
_COVERAGE_SEASON = np.array([0.08, 0.0, 0.0, 0.05, 0.0, 0.0, 0.05, 0.0, 0.0, 0.05, 0.0, -0.06])
# Share of the annual revenue collected in each month: slow Q1, December catch-up.
_REVENUE_SHAPE = np.array([0.07, 0.06, 0.07, 0.085, 0.085, 0.085, 0.085, 0.08, 0.085, 0.09, 0.08, 0.125])

_ON_TIME, _LATE, _SHORT, _OVERDUE = 0, 1, 2, 3


@dataclass(frozen=True)
class _Calendar:
    start: np.datetime64  # first day of data (Jan 1)
    end: np.datetime64
    months: np.ndarray  # datetime64[M]: start month … end's month (the data months)
    days: np.ndarray  # working days from start through the end of end's month
    n_days: int  # how many of `days` are ≤ end

    @classmethod
    def build(cls, end: datetime.date, years: int) -> _Calendar:
        start = np.datetime64(f"{end.year - years + 1:04d}-01-01", "D")
        end64 = np.datetime64(end, "D")
        last_month = end64.astype("M8[M]")
        all_days = np.arange(start, (last_month + 1).astype("M8[D]"))
        days = all_days[np.is_busday(all_days)]
        months = np.arange(start.astype("M8[M]"), last_month + 1)
        return cls(start, end64, months, days, int(np.searchsorted(days, end64, side="right")))

    @property
    def day_month(self) -> np.ndarray:
        """Index into `months` of every working day."""
        return (self.days.astype("M8[M]") - self.months[0]).astype(int)

    @property
    def month_year(self) -> np.ndarray:
        return self.months.astype("M8[Y]").astype(int) + 1970

    @property
    def month_of_year(self) -> np.ndarray:
        return self.months.astype(int) % 12 + 1


@dataclass(frozen=True)
class _Profiles:
    codes: np.ndarray
    names: np.ndarray
    cities: np.ndarray
    population: np.ndarray  # 万人
    role: np.ndarray
    monthly_out: np.ndarray  # normal month's outflow in the first year, 万元
    growth: np.ndarray  # yearly growth of spending and payroll
    december: np.ndarray  # December outflow / normal month
    payroll_share: np.ndarray
    payday_day: np.ndarray  # day of month
    deposit_lead: np.ndarray  # days between the payroll deposit and payday
    coverage_end: np.ndarray
    gap_end: np.ndarray  # revenue gap at end, pp
    advances_end: np.ndarray

    @property
    def n(self) -> int:
        return len(self.codes)

    def year_factor(self, years: np.ndarray, first_year: int) -> np.ndarray:
        """Spending level of each county (rows) in each year (columns) vs the first year."""
        return (1.0 + self.growth[:, None]) ** (years[None, :] - first_year)


def build_frames(
    counties: int = 30, years: int = 3, seed: int = 2025, end: datetime.date = DEMO_END, daily: bool = False
) -> dict[str, pd.DataFrame]:
    """One DataFrame per extract kind (keys of KINDS) of fictional demo data.

    `daily`: treasury and payroll-account rows on every calendar day, as bank statements
    have them (weekends carry the balance with no flows; the account repeats its balance
    from its first row on), instead of working days and balance changes only. Every
    indicator is the same either way; only the row counts, and so the cost, differ.
    """
    if not 1 <= counties <= 9999 or years < 1:
        raise ValueError("counties must be 1..9999 and years ≥ 1")
    rng = np.random.default_rng(seed)
    cal = _Calendar.build(end, years)
    prof = _profiles(counties, cal, rng)
    schedule, account, transfers = _payroll(prof, cal, rng)
    treasury, month_outflow = _treasury(prof, cal, transfers, rng)
    frames = {
        "counties": {
            "county_code": prof.codes,
            "county_name": prof.names,
            "city_name": prof.cities,
            "population": prof.population,
        },
        "treasury": treasury,
        "payroll_schedule": schedule,
        "payroll_account": account,
        "revenue": _revenue(prof, cal, rng),
        "advances": _advances(prof, cal, month_outflow, rng),
    }
    if daily:
        frames["treasury"] = _every_day(frames["treasury"], cal.end, flows=("inflow", "outflow"))
        frames["payroll_account"] = _every_day(frames["payroll_account"], cal.end)
    return {kind: _conform(kind, frames[kind]) for kind in KIND_ORDER}


def _every_day(rows: dict, end: np.datetime64, flows: tuple[str, ...] = ()) -> dict:
    """Rows (sorted by county, then date) on every calendar day from each county's first
    row through `end`: a day without a row repeats the latest balance, with zero flows."""
    codes, dates = np.asarray(rows["county_code"]), np.asarray(rows["date"]).astype("M8[D]")
    county = np.unique(codes, return_inverse=True)[1]
    day = dates.astype(np.int64)
    first = np.full(county.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, county, day)
    length = end.astype(np.int64) - first + 1
    grid_county = np.repeat(np.arange(len(first)), length)
    grid_day = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length) + np.repeat(first, length)
    span = end.astype(np.int64) + 1
    source = np.searchsorted(county * span + day, grid_county * span + grid_day, side="right") - 1
    exact = (county * span + day)[source] == grid_county * span + grid_day
    first_code = codes[np.unique(county, return_index=True)[1]]
    out = {"county_code": first_code[grid_county], "date": grid_day.astype("M8[D]"),
           "balance": np.asarray(rows["balance"])[source]}
    for flow in flows:
        out[flow] = np.where(exact, np.asarray(rows[flow])[source], 0.0)
    return out


# --------------------------------------------------------------------------- counties


def _profiles(n: int, cal: _Calendar, rng: np.random.Generator) -> _Profiles:
    codes, names, cities = _county_names(n, rng)
    role = rng.permutation(_role_list(n))
    population = np.round(np.clip(rng.lognormal(np.log(40.0), 0.45, n), 6.0, 160.0), 2)
    # The payroll_overdue county is paid in the week after `end`, so that the next
    # payday's T−7 cutoff has already passed at `end` (it is not always day 7–15).
    overdue_day = (cal.end + np.timedelta64(5, "D")).astype(object).day
    payday_day = np.where(role == "payroll_overdue", overdue_day, rng.integers(7, 16, n))
    # Each county fills the payroll account a fixed 8–12 days before payday, picked so
    # the deposit always lands in the same month relative to payday (this month, or
    # the previous one, even after weekend roll-backs); otherwise monthly outflow would
    # swing by a whole payroll from month to month.
    lead = np.arange(8, 13)[None, :]
    gap = payday_day[:, None] - lead
    allowed = (gap <= 0) | (gap >= 5)
    deposit_lead = lead[0, np.argmax(np.where(allowed, rng.random(allowed.shape), -1.0), axis=1)]

    def draw(field: int) -> np.ndarray:
        limits = np.array([_ROLES[r][field] for r in role])
        return rng.uniform(limits[:, 0], limits[:, 1])

    coverage_end, gap_end, advances_end = draw(1), draw(2), draw(3)
    return _Profiles(
        codes=codes,
        names=names,
        cities=cities,
        population=population,
        role=role,
        monthly_out=population * rng.uniform(500.0, 800.0, n),
        growth=rng.uniform(0.02, 0.06, n),
        december=rng.uniform(1.45, 1.8, n),
        payroll_share=rng.uniform(0.25, 0.35, n),
        payday_day=payday_day,
        deposit_lead=deposit_lead,
        coverage_end=coverage_end,
        gap_end=gap_end,
        advances_end=advances_end,
    )


def _role_list(n: int) -> list[str]:
    """Roles in priority order, scaled to n counties (at least one each); the rest are
    normal."""
    roles = []
    for name, (per30, *_) in _ROLES.items():
        if name != "normal":
            roles += [name] * max(1, round(per30 * n / 30))
    return roles[:n] + ["normal"] * (n - len(roles))


def _county_names(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes 99CCNN (city CC, county NN) while they fit, else 99 + a running number."""
    n_cities = max(1, round(n / 10))
    sizes = np.full(n_cities, n // n_cities)
    sizes[: n % n_cities] += 1
    # Uneven cities (about 8–12 counties): move up to two counties between neighbours.
    pairs = n_cities // 2
    shift = rng.integers(-2, 3, pairs)
    sizes[0 : 2 * pairs : 2] += shift
    sizes[1 : 2 * pairs : 2] -= shift
    city = np.repeat(np.arange(n_cities), sizes)
    position = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    if n_cities <= 99:
        codes = [f"99{c + 1:02d}{p + 1:02d}" for c, p in zip(city, position)]
    else:
        codes = [f"99{i + 1:04d}" for i in range(n)]
    width = max(2, len(str(n)))
    names = [f"演示县{i + 1:0{width}d}" for i in range(n)]
    if n_cities <= len(_STEMS):
        city_names = [f"演示{_STEMS[c]}市" for c in range(n_cities)]
    else:
        city_width = max(3, len(str(n_cities)))
        city_names = [f"演示市{c + 1:0{city_width}d}" for c in range(n_cities)]
    return np.array(codes, dtype=object), np.array(names, dtype=object), np.array(city_names, dtype=object)[city]


# --------------------------------------------------------------------------- payroll


def _payroll(p: _Profiles, cal: _Calendar, rng: np.random.Generator) -> tuple[dict, dict, tuple]:
    """Schedule (data months + 3 more), payroll-account rows, and the treasury transfers
    that fill the account: (county index, date, amount)."""
    n = p.n
    months = np.arange(cal.months[0], cal.months[-1] + 4)
    first = months.astype("M8[D]")
    length = ((months + 1).astype("M8[D]") - first).astype(int)
    day = np.minimum(p.payday_day[:, None], length[None, :])
    payday = np.busday_offset(first[None, :] + (day - 1), 0, roll="backward")

    years = months.astype("M8[Y]").astype(int) + 1970
    # Monthly payroll at each year's level; individual months vary by about 1 %.
    level = p.monthly_out[:, None] * p.payroll_share[:, None] * p.year_factor(years, years[0])
    amount = np.round(level * (1.0 + rng.normal(0.0, 0.01, level.shape)), 2)
    # Monthly cost per person (salary + contributions), 0.75–1.05 万元, +3 % a year.
    cost = rng.uniform(0.75, 1.05, (n, 1)) * 1.03 ** (years - years[0])[None, :]
    headcount = np.rint(level / cost)

    plan = _payroll_plan(p, payday <= cal.end, rng)
    deposit_day = np.busday_offset(payday - p.deposit_lead[:, None], 0, roll="backward")
    part = np.select(
        [plan == _LATE, plan == _SHORT, plan == _OVERDUE],
        [rng.uniform(0.4, 0.8, plan.shape), rng.uniform(0.55, 0.85, plan.shape), rng.uniform(0.2, 0.5, plan.shape)],
        1.0,
    )
    deposit = np.round(part * amount, 2)
    top_up_day = np.busday_offset(payday - rng.integers(1, 4, plan.shape), 0, roll="backward")
    rest = np.round(amount - deposit, 2)

    rows = np.broadcast_to(np.arange(n)[:, None], plan.shape)
    end = cal.end
    # Account: the (partial) deposit, the late top-up to the full amount, 0 after payday.
    # The first deposit may precede the data start (it funds the first payday).
    dep, top, paid = deposit_day <= end, plan == _LATE, payday <= end
    acct_rows = np.concatenate([rows[dep], rows[top], rows[paid]])
    acct_date = np.concatenate([deposit_day[dep], top_up_day[top], payday[paid]])
    acct_bal = np.concatenate([deposit[dep], amount[top], np.zeros(paid.sum())])
    order = np.lexsort((acct_date, acct_rows))
    account = {"county_code": p.codes[acct_rows[order]], "date": acct_date[order], "balance": acct_bal[order]}

    # Treasury side: deposits and top-ups leave the treasury when made (those before the
    # data start are not in it); a short month's remainder is paid straight from the
    # treasury on payday.
    short = plan == _SHORT
    t_rows = np.concatenate([rows[dep], rows[top], rows[short]])
    t_date = np.concatenate([deposit_day[dep], top_up_day[top], payday[short]])
    t_amount = np.concatenate([deposit[dep], rest[top], rest[short]])
    inside = t_date >= cal.start
    transfers = (t_rows[inside], t_date[inside], t_amount[inside])
    schedule = {
        "county_code": np.repeat(p.codes, len(months)),
        "payday": payday.ravel(),
        "amount_due": amount.ravel(),
        "headcount": headcount.ravel(),
    }
    return schedule, account, transfers


def _payroll_plan(p: _Profiles, paid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How each payday is funded: on time, late, short, or overdue (next payday only)."""
    last = paid.sum(axis=1) - 1  # index of the last payday ≤ end
    before_last = np.arange(paid.shape[1])[None, :] < last[:, None]
    # Occasional lateness, never on the first payday (its top-up could precede the data).
    before_last[:, 0] = False
    plan = np.where((rng.random(paid.shape) < 0.03) & before_last, _LATE, _ON_TIME)
    for role, offset, status in (
        ("payroll_late", 0, _LATE),
        ("payroll_overdue", -2, _LATE),
        ("payroll_overdue", -1, _LATE),
        ("payroll_overdue", 0, _LATE),
        ("payroll_overdue", 1, _OVERDUE),
        ("payroll_crisis", -2, _LATE),
        ("payroll_crisis", -1, _LATE),
        ("payroll_crisis", 0, _SHORT),
    ):
        rows = np.flatnonzero(p.role == role)
        cols = last[rows] + offset
        ok = cols >= 0
        plan[rows[ok], cols[ok]] = status
    return plan


# --------------------------------------------------------------------------- treasury


def _treasury(p: _Profiles, cal: _Calendar, transfers: tuple, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    """Daily treasury rows, and the summed outflow per county and data month."""
    out_cents = _outflow_cents(p, cal, transfers, rng)
    months = cal.day_month[: cal.n_days]
    seg_month = np.unique(months)  # data months with a working day ≤ end
    seg_start = np.searchsorted(months, seg_month)
    seg = np.searchsorted(seg_month, months)
    out_month = np.add.reduceat(out_cents, seg_start, axis=1) / 100.0

    balances = _month_end_balances(p, cal, seg_month, out_month, rng)
    inflow = _inflow(cal.days[: cal.n_days], seg, seg_start, balances, out_cents / 100.0, rng)
    in_cents = np.rint(inflow * 100.0).astype(np.int64)
    # Balances are the running sum of the rounded flows, so continuity holds to the cent.
    opening = np.rint(balances[:, 0] * 100.0).astype(np.int64)
    balance_cents = opening[:, None] + np.cumsum(in_cents - out_cents, axis=1)

    outflow_by_month = np.zeros((p.n, len(cal.months)))
    outflow_by_month[:, seg_month] = out_month
    frame = {
        "county_code": np.repeat(p.codes, cal.n_days),
        "date": np.tile(cal.days[: cal.n_days], p.n),
        "balance": (balance_cents / 100.0).ravel(),
        "inflow": (in_cents / 100.0).ravel(),
        "outflow": (out_cents / 100.0).ravel(),
    }
    return frame, outflow_by_month


def _outflow_cents(p: _Profiles, cal: _Calendar, transfers: tuple, rng: np.random.Generator) -> np.ndarray:
    """Daily outflow in cents (county × working day ≤ end): spending + payroll transfers."""
    n, months = p.n, cal.day_month
    moy = cal.month_of_year
    level = p.monthly_out[:, None] * p.year_factor(cal.month_year, cal.month_year[0])
    season = np.where(moy == 12, p.december[:, None], _SPEND_SEASON[moy - 1][None, :])
    total = level * season * np.exp(rng.normal(0.0, 0.05, level.shape))
    spending = total - level * p.payroll_share[:, None]  # payroll leaves via the transfers

    # Spread each full month over its working days: noisy, heavier in the last week
    # (month-end settlements) and towards the end of December (year-end rush).
    month_start = np.searchsorted(months, np.arange(len(cal.months)))
    position = (np.arange(len(months)) - month_start[months]) / np.bincount(months)[months]
    weight = rng.gamma(4.0, 0.25, (n, len(months)))
    weight *= np.where(position >= 0.75, 1.6, 1.0) * np.where(moy[months] == 12, 0.5 + 1.5 * position, 1.0)
    daily = (spending[:, months] * _normalise(weight, month_start, months))[:, : cal.n_days]

    rows, date, amount = transfers
    np.add.at(daily, (rows, np.searchsorted(cal.days, date)), amount)
    return np.rint(daily * 100.0).astype(np.int64)


def _month_end_balances(
    p: _Profiles, cal: _Calendar, seg_month: np.ndarray, out_month: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Opening balance and the balance at the last working day of each data month.

    Balance = planned coverage × mean outflow of the previous (up to 12) months, which is
    what the dashboard computes at a month end; at `end` the SPEC M2 average is used so
    the final coverage is exactly the profile's.
    """
    n, S = out_month.shape
    # In the first year, months before the data count as a normal month of the first
    # year, so the planned balances do not jump with a short, seasonal history.
    level = p.monthly_out[:, None]
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(out_month, axis=1)], axis=1)
    lo = np.maximum(np.arange(S) - 12, 0)
    missing = 12 - (np.arange(S) - lo)
    trailing = (csum[:, np.arange(S)] - csum[:, lo] + missing * level) / 12.0
    end_month = len(cal.months) - 1
    window = (seg_month >= end_month - 12) & (seg_month < end_month)
    if window.sum() >= 3:
        trailing[:, -1] = out_month[:, window].mean(axis=1)

    coverage = _coverage_path(p, cal.month_of_year[seg_month], rng)
    balances = np.column_stack([coverage[:, 0] * trailing[:, 0], coverage * trailing])
    # The month of `end` may be only a few days long: there inflow just matches
    # outflow, so the previous month closes at the end balance.
    balances[:, -2] = balances[:, -1]
    return balances


def _coverage_path(p: _Profiles, moy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Month-end coverage per county: its usual level with seasonal swings, moving
    linearly to the profile's end value over the last few months."""
    n, S = p.n, len(moy)
    usual = rng.uniform(0.58, 0.76, n)
    usual = np.where(p.role == "idle", p.coverage_end + rng.uniform(-0.1, 0.1, n), usual)
    usual = np.where(p.role == "drawdown", rng.uniform(3.8, 4.4, n), usual)
    drift = usual[:, None] + _COVERAGE_SEASON[moy - 1][None, :] + rng.normal(0.0, 0.03, (n, S))
    months = np.select(
        [p.role == "drawdown", np.isin(p.role, ["low_cash", "payroll_crisis", "cash_crisis"])], [12, 6], 4
    )[:, None]
    # The end value is reached at the month before `end`'s and held (see
    # _month_end_balances).
    to_end = np.clip((np.arange(S)[None, :] - (S - 2 - months)) / months, 0.0, 1.0)
    path = np.maximum((1.0 - to_end) * drift + to_end * p.coverage_end[:, None], 0.12)
    # Coverage falls at most 0.4 a month (spending can only run so far ahead of
    # inflow), which matters when the data are too short for a profile's drift.
    step = 0.4 * np.arange(S)
    return np.minimum.accumulate((path + step)[:, ::-1], axis=1)[:, ::-1] - step


def _inflow(
    days: np.ndarray,
    seg: np.ndarray,
    seg_start: np.ndarray,
    balances: np.ndarray,
    outflow: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Daily inflow that takes each month from its opening to its closing balance.

    Natural pattern: funds drawn as spending needs them, tax receipts (heavier from
    the 8th to the 18th, the filing period) and 1–2 lump transfers from the province.
    Where that would take the balance below 80 % of the lower of the month's opening
    and closing balance (so daily coverage stays near the month-end path and weekly
    changes mean something), part of the month's inflow is moved to its first
    working day — just enough (mixing the natural pattern with "all on day one",
    whose path never dips below the closing balance).
    """
    n, T, S = len(balances), len(seg), len(seg_start)
    before, after = balances[:, :-1], balances[:, 1:]
    month_inflow = (after - before + np.add.reduceat(outflow, seg_start, axis=1))[:, seg]

    day_of_month = (days - days.astype("M8[M]").astype("M8[D]")).astype(int) + 1
    tax = rng.gamma(2.0, 0.5, (n, T)) * np.where((day_of_month >= 8) & (day_of_month <= 18), 2.0, 1.0)
    lumps = np.zeros((n, T))
    length = np.diff(np.append(seg_start, T))
    for _ in range(2):
        lump_day = seg_start + (rng.random((n, S)) * length).astype(int)
        np.add.at(lumps, (np.arange(n)[:, None], lump_day), 1.0)
    parts = rng.dirichlet([4.0, 3.0, 3.0], n)[:, :, None]  # per county: funding, tax, lumps
    natural = (
        parts[:, 0] * _normalise(outflow, seg_start, seg)
        + parts[:, 1] * _normalise(tax, seg_start, seg)
        + parts[:, 2] * _normalise(lumps, seg_start, seg)
    )

    opening = before[:, seg]
    spent = _cumsum_within(outflow, seg_start, seg)
    path_natural = opening + month_inflow * _cumsum_within(natural, seg_start, seg) - spent
    path_front = opening + month_inflow - spent
    floor = 0.8 * np.minimum(before, after)[:, seg]
    low = path_natural < floor
    need = np.where(low, (floor - path_natural) / np.where(low, path_front - path_natural, 1.0), 0.0)
    front = np.clip(np.maximum.reduceat(need, seg_start, axis=1), 0.0, 1.0)[:, seg]
    first_day = np.zeros(T)
    first_day[seg_start] = 1.0
    return month_inflow * (front * first_day + (1.0 - front) * natural)


def _normalise(weight: np.ndarray, start: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Scale weights so each group of consecutive columns sums to 1."""
    return weight / np.add.reduceat(weight, start, axis=1)[:, group]


def _cumsum_within(values: np.ndarray, start: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum along columns, restarting at each group start."""
    total = np.cumsum(values, axis=1)
    offset = np.concatenate([np.zeros((len(values), 1)), total[:, start[1:] - 1]], axis=1)
    return total - offset[:, group]


# --------------------------------------------------------------------------- revenue, advances


def _revenue(p: _Profiles, cal: _Calendar, rng: np.random.Generator) -> dict:
    """Monthly YTD revenue per category against a constant yearly budget."""
    n = p.n
    years = np.unique(cal.month_year)
    Y, end_month = len(years), int(cal.month_of_year[-1])
    last_month = np.full(Y, 12)
    last_month[-1] = end_month

    budget = p.monthly_out * 12.0 * rng.uniform(0.25, 0.45, n)
    growth = np.cumprod(np.column_stack([np.ones(n), 1.0 + rng.uniform(0.02, 0.06, (n, Y - 1))]), axis=1)
    tax_share = rng.uniform(0.6, 0.8, (n, 1))
    budgets = np.stack([np.round(budget[:, None] * growth * s, 2) for s in (tax_share, 1.0 - tax_share)], axis=2)

    # Progress (share of budget) at each year's last reported month: past years close
    # near 100 %; the current year is the profile's gap to time progress. Early in the
    # year a large gap is capped so that progress stays positive.
    time_progress = end_month / 12.0
    progress = rng.uniform(0.97, 1.05, (n, Y))
    progress[:, -1] = np.maximum(time_progress + p.gap_end / 100.0, 0.3 * time_progress)
    # Categories differ a little; non-tax takes the rest so the total is exact.
    tax_progress = progress * (1.0 + rng.uniform(-0.03, 0.03, (n, Y)))
    nontax_progress = (progress * budgets.sum(axis=2) - tax_progress * budgets[..., 0]) / budgets[..., 1]

    # Cumulative monthly shape, rescaled to the progress at the last reported month;
    # non-tax income is lumpier.
    noise = np.exp(rng.normal(0.0, 1.0, (n, Y, 12, 2)) * np.array([0.15, 0.35]))
    cumulative = np.cumsum(_REVENUE_SHAPE[None, None, :, None] * noise, axis=2)
    at_last = cumulative[:, np.arange(Y), last_month - 1, :]  # (county, year, category)
    target = np.stack([tax_progress, nontax_progress], axis=2) * budgets
    ytd = cumulative * (target / at_last)[:, :, None, :]

    shape = (n, Y, 12, 2)
    keep = np.broadcast_to((np.arange(1, 13)[None, :] <= last_month[:, None])[None, :, :, None], shape)
    index = np.indices(shape)
    return {
        "county_code": p.codes[index[0][keep]],
        "year": years[index[1][keep]],
        "month": index[2][keep] + 1,
        "category": np.array(["税收收入", "非税收入"], dtype=object)[index[3][keep]],
        "budget": np.broadcast_to(budgets[:, :, None, :], shape)[keep],
        "actual_ytd": ytd[keep],
    }


def _advances(p: _Profiles, cal: _Calendar, outflow: np.ndarray, rng: np.random.Generator) -> dict:
    """Monthly advances balance and YTD general / fund expenditure.

    General + fund expenditure YTD is the year's cumulative treasury outflow. The
    balance follows a planned ratio to the denominator of SPEC M6 (previous year's
    December expenditure, or this year's annualised when there is no previous year),
    drifting linearly to the profile's end ratio.
    """
    n, H = outflow.shape
    year = cal.month_year
    first_year = year == year[0]
    ytd = np.empty_like(outflow)
    for y in np.unique(year):
        ytd[:, year == y] = np.cumsum(outflow[:, year == y], axis=1)
    fund_share = rng.uniform(0.2, 0.4, (n, 1))
    general = np.round(ytd / (1.0 + fund_share), 2)
    fund = np.round(ytd * fund_share / (1.0 + fund_share), 2)
    spent = general + fund

    # Denominator per month: the previous December's YTD total; the first year has
    # none, so its last month annualised stands in.
    last_first = np.flatnonzero(first_year)[-1]
    denominator = np.empty_like(spent)
    denominator[:, first_year] = (spent[:, last_first] * 12.0 / cal.month_of_year[last_first])[:, None]
    for y in np.unique(year[~first_year]):
        denominator[:, year == y] = spent[:, (year == y - 1) & (cal.month_of_year == 12)]

    high = np.isin(p.role, ["advances_high", "revenue_slump"])
    start = np.where(high, rng.uniform(0.03, 0.045, n), rng.uniform(0.01, 0.035, n))
    t = (np.arange(H) + 1) / H
    ratio = start[:, None] + (p.advances_end - start)[:, None] * t + rng.normal(0.0, 0.001, (n, H)) * (1.0 - t)
    balance = np.maximum(ratio, 0.003) * denominator
    return {
        "county_code": np.repeat(p.codes, H),
        "year": np.tile(year, n),
        "month": np.tile(cal.month_of_year, n),
        "advances_balance": balance.ravel(),
        "general_exp_ytd": general.ravel(),
        "fund_exp_ytd": fund.ravel(),
    }


def _conform(kind: str, columns: dict) -> pd.DataFrame:
    """Canonical columns of the kind, in order, with the types of its arrow schema."""
    data = {}
    for col in KINDS[kind].columns:
        values = np.asarray(columns[col.name])
        if col.kind in ("code", "text"):
            data[col.name] = pd.array(values.astype(object), dtype="str")
        elif col.kind == "date":
            data[col.name] = values.astype("M8[D]").astype(object)  # datetime.date
        elif col.kind == "int":
            data[col.name] = values.astype(np.int32)
        else:
            data[col.name] = np.round(values.astype(np.float64), 2)
    return pd.DataFrame(data)
