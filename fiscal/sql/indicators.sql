-- SPEC §4–5: every indicator, severity, tier and reason for every county and every
-- as-of date in $as_of_dates, in one set-based pass.
WITH
grid AS (
    SELECT c.county_code, c.county_name, c.city_name, a.as_of,
           date_trunc('month', a.as_of)::DATE AS as_of_month
    FROM counties c
    CROSS JOIN (SELECT DISTINCT unnest($as_of_dates::DATE[]) AS as_of) a
),
grid_days AS (SELECT county_code, as_of AS day FROM grid),

-- M1 库款余额: the latest treasury row on or before A.
m1 AS (
    SELECT county_code, day AS as_of, date AS treasury_date, balance AS treasury_balance
    FROM latest_on('treasury', 'grid_days')
),

-- Reference months for M2 and M5: the calendar months among the $history_months before
-- A's month that have treasury rows, with their summed flows (treasury_months.sql, computed
-- once per treasury version and month range and kept under the key $treasury_months) and payroll.
monthly_flow AS (
    SELECT county_code, month, inflow, outflow FROM treasury_months WHERE key = $treasury_months
),
monthly_payroll AS (
    SELECT county_code, date_trunc('month', payday)::DATE AS month, sum(amount_due::DECIMAL(18, 6)) AS payroll
    FROM payroll_schedule GROUP BY ALL
),
reference AS (
    SELECT g.county_code, g.as_of,
           count(*) AS history_months,
           sum(f.inflow)::DOUBLE / 1000000 / count(*) AS avg_in,  -- flows in 1e-6 万元
           sum(f.outflow)::DOUBLE / 1000000 / count(*) AS avg_out,
           sum(coalesce(p.payroll, 0))::DOUBLE / count(*) AS avg_payroll
    FROM grid g
    JOIN monthly_flow f
      ON f.county_code = g.county_code
     AND f.month >= g.as_of_month - to_months(CAST($history_months AS INTEGER))
     AND f.month < g.as_of_month
    LEFT JOIN monthly_payroll p ON p.county_code = f.county_code AND p.month = f.month
    GROUP BY ALL
),

-- M3: the last payday (latest P ≤ A) and the next (earliest P > A), with their status.
-- Found by grouping, then joined back for the amount (a payday is unique per county: the
-- schedule's key); an ASOF join sorts the whole schedule and costs more.
key_paydays AS (
    SELECT k.county_code, k.as_of, k.which, k.payday, s.amount_due
    FROM (
        SELECT g.county_code, g.as_of, 'last' AS which, max(s.payday) AS payday
        FROM grid g JOIN payroll_schedule s ON s.county_code = g.county_code AND s.payday <= g.as_of
        GROUP BY ALL
        UNION ALL
        SELECT g.county_code, g.as_of, 'next' AS which, min(s.payday) AS payday
        FROM grid g JOIN payroll_schedule s ON s.county_code = g.county_code AND s.payday > g.as_of
        GROUP BY ALL
    ) k
    JOIN payroll_schedule s ON s.county_code = k.county_code AND s.payday = k.payday
),
statuses AS (FROM payday_funding('key_paydays', $lead_days)),
m3 AS (
    SELECT county_code, as_of,
           max(payday) FILTER (which = 'last') AS last_payday,
           max(amount_due) FILTER (which = 'last') AS last_payday_amount,
           max(status) FILTER (which = 'last') AS last_payday_status,
           max(ratio) FILTER (which = 'last') AS last_payday_ratio,
           max(shortfall) FILTER (which = 'last') AS last_payday_shortfall,
           max(payday) FILTER (which = 'next') AS next_payday,
           max(amount_due) FILTER (which = 'next') AS next_payday_amount,
           max(status) FILTER (which = 'next') AS next_payday_status,
           max(ratio) FILTER (which = 'next') AS next_payday_ratio,
           max(cutoff) FILTER (which = 'next') AS next_payday_cutoff
    FROM statuses GROUP BY ALL
),

-- M4 收入进度: the latest month of year(A) up to month(A) with revenue rows.
revenue_month AS (
    SELECT g.county_code, g.as_of, max(r.month) AS revenue_month
    FROM grid g
    JOIN revenue r ON r.county_code = g.county_code AND in_year_to_month(r.year, r.month, g.as_of)
    GROUP BY ALL
),
m4 AS (
    SELECT m.county_code, m.as_of, m.revenue_month,
           sum(r.actual_ytd) / sum(r.budget) AS revenue_progress,
           m.revenue_month / 12.0 AS time_progress
    FROM revenue_month m
    JOIN revenue r ON r.county_code = m.county_code AND r.year = year(m.as_of) AND r.month = m.revenue_month
    GROUP BY ALL
),

-- M5 inputs: balance of the payroll account on A, and payroll due in the forward window.
days_without_paydays AS (
    FROM grid_days g ANTI JOIN key_paydays k ON k.county_code = g.county_code AND k.as_of = g.day
),
-- (already looked up for the paydays' statuses; separately only for a county without paydays)
account_today AS (
    SELECT DISTINCT county_code, as_of, bal_as_of AS account_balance FROM statuses
    UNION ALL
    SELECT county_code, day AS as_of, balance AS account_balance
    FROM latest_on('payroll_account', 'days_without_paydays')
),
forward_need AS (
    SELECT g.county_code, g.as_of, sum(s.amount_due::DECIMAL(18, 6))::DOUBLE AS need
    FROM grid g
    JOIN payroll_schedule s
      ON s.county_code = g.county_code
     AND s.payday > g.as_of
     AND s.payday <= g.as_of + to_months(CAST($forward_months AS INTEGER))
    GROUP BY ALL
),

-- M6 暂付款比例: the latest month of year(A) up to month(A) with an advances row.
advances_month AS (
    SELECT g.county_code, g.as_of, max(a.month) AS month
    FROM grid g
    JOIN advances a ON a.county_code = g.county_code AND in_year_to_month(a.year, a.month, g.as_of)
    GROUP BY ALL
),
m6 AS (
    SELECT m.county_code, m.as_of,
           a.advances_balance / nullif(
               CASE WHEN prev.county_code IS NOT NULL THEN prev.general_exp_ytd + prev.fund_exp_ytd
                    ELSE (a.general_exp_ytd + a.fund_exp_ytd) * 12.0 / a.month END, 0) AS advances_ratio
    FROM advances_month m
    JOIN advances a ON a.county_code = m.county_code AND a.year = year(m.as_of) AND a.month = m.month
    LEFT JOIN advances prev ON prev.county_code = a.county_code AND prev.year = a.year - 1 AND prev.month = 12
),

indicators AS (
    SELECT g.county_code, g.county_name, g.city_name, g.as_of,
           m1.treasury_date, m1.treasury_balance,
           CASE WHEN r.history_months >= $min_history_months THEN r.avg_out END AS avg_monthly_outflow,
           CASE WHEN r.history_months >= $min_history_months AND r.avg_out > 0
                THEN m1.treasury_balance / r.avg_out END AS coverage_months,
           m3.last_payday, m3.last_payday_amount, m3.last_payday_status, m3.last_payday_ratio,
           m3.last_payday_shortfall,
           m3.next_payday, m3.next_payday_amount, m3.next_payday_status, m3.next_payday_ratio,
           m3.next_payday_cutoff,
           m4.revenue_month, m4.revenue_progress, m4.time_progress,
           -- rounded so that a gap of exactly −8 pp is not flagged by floating-point noise
           round(100 * (m4.revenue_progress - m4.time_progress), 9) AS revenue_gap_pp,
           CASE WHEN r.history_months >= $min_history_months THEN
               coalesce(m1.treasury_balance, 0) + coalesce(acct.account_balance, 0)
               + $forward_months * (r.avg_in - (r.avg_out - r.avg_payroll))
           END AS forward_available,
           CASE WHEN fn.need > 0 THEN forward_available / fn.need END AS payroll_cover_3m,
           m6.advances_ratio,
           coalesce(r.history_months, 0) AS history_months,
           acct.account_balance,
           fn.need AS forward_need
    FROM grid g
    LEFT JOIN m1 USING (county_code, as_of)
    LEFT JOIN reference r USING (county_code, as_of)
    LEFT JOIN m3 USING (county_code, as_of)
    LEFT JOIN m4 USING (county_code, as_of)
    LEFT JOIN account_today acct USING (county_code, as_of)
    LEFT JOIN forward_need fn USING (county_code, as_of)
    LEFT JOIN m6 USING (county_code, as_of)
),

-- SPEC §5: severity of each indicator (0 when null).
severities AS (
    SELECT *,
           CASE WHEN coverage_months < $coverage_warning THEN $sev_coverage_warning
                WHEN coverage_months < $coverage_prompt THEN $sev_coverage_prompt ELSE 0 END AS sev_coverage,
           CASE last_payday_status WHEN 'shortfall' THEN $sev_last_shortfall
                WHEN 'funded_late' THEN $sev_last_late ELSE 0 END AS sev_last_payday,
           CASE next_payday_status WHEN 'overdue' THEN $sev_next_overdue
                WHEN 'funded_late' THEN $sev_next_late ELSE 0 END AS sev_next_payday,
           CASE WHEN payroll_cover_3m < $forward_warning THEN $sev_forward_warning ELSE 0 END AS sev_forward,
           CASE WHEN revenue_gap_pp < $revenue_warning_pp THEN $sev_revenue_warning
                WHEN revenue_gap_pp < $revenue_prompt_pp THEN $sev_revenue_prompt ELSE 0 END AS sev_revenue,
           CASE WHEN advances_ratio > $advances_cap THEN $sev_advances ELSE 0 END AS sev_advances
    FROM indicators
),
tiered AS (
    SELECT *,
           CASE WHEN (sev_coverage >= 2)::INT + (sev_last_payday >= 2)::INT + (sev_next_payday >= 2)::INT
                   + (sev_forward >= 2)::INT + (sev_revenue >= 2)::INT + (sev_advances >= 2)::INT
                   >= $focus_when_warnings THEN 3
                ELSE greatest(sev_coverage, sev_last_payday, sev_next_payday, sev_forward, sev_revenue, sev_advances)
           END AS tier
    FROM severities
)
SELECT county_code, county_name, city_name, as_of,
       treasury_date, treasury_balance, avg_monthly_outflow, coverage_months,
       coverage_band(coverage_months, $coverage_warning, $coverage_prompt, $coverage_idle) AS coverage_band,
       last_payday, last_payday_amount, last_payday_status, last_payday_ratio, last_payday_shortfall,
       next_payday, next_payday_amount, next_payday_status, next_payday_ratio,
       revenue_month, revenue_progress, time_progress, revenue_gap_pp,
       payroll_cover_3m, advances_ratio,
       tier, tier_label(tier) AS tier_label,
       list_filter([
           CASE WHEN sev_coverage > 0 THEN printf('库款保障水平 %.2f 低于%s %.2f', coverage_months,
                CASE WHEN coverage_months < $coverage_warning THEN '预警线' ELSE '提示线' END,
                CASE WHEN coverage_months < $coverage_warning THEN $coverage_warning ELSE $coverage_prompt END) END,
           CASE WHEN sev_last_payday > 0 AND last_payday_status = 'shortfall'
                THEN printf('%s 工资 发薪日前工资专户仍缺 %,.2f 万元（截止日存入比例 %.1f%%）',
                            strftime(last_payday, '%Y-%m-%d'), last_payday_shortfall, 100 * last_payday_ratio)
                WHEN sev_last_payday > 0
                THEN printf('%s 工资 迟于发薪日前%d天足额存入（截止日存入比例 %.1f%%）',
                            strftime(last_payday, '%Y-%m-%d'), $lead_days, 100 * last_payday_ratio) END,
           CASE WHEN sev_next_payday > 0 AND next_payday_status = 'overdue'
                THEN printf('%s 工资 已过发薪日前%d天截止日仍未足额存入（截止日存入比例 %.1f%%）',
                            strftime(next_payday, '%Y-%m-%d'), $lead_days, 100 * next_payday_ratio)
                WHEN sev_next_payday > 0
                THEN printf('%s 工资 迟于发薪日前%d天足额存入（截止日存入比例 %.1f%%）',
                            strftime(next_payday, '%Y-%m-%d'), $lead_days, 100 * next_payday_ratio) END,
           CASE WHEN sev_forward > 0 THEN printf('未来%d个月工资保障倍数 %.2f 低于预警线 %.2f',
                $forward_months, payroll_cover_3m, $forward_warning) END,
           CASE WHEN sev_revenue > 0 THEN printf('收入进度 %.1f%% 较序时进度 %.1f%% 相差 %.1f 个百分点，低于%s %g',
                100 * revenue_progress, 100 * time_progress, revenue_gap_pp,
                CASE WHEN revenue_gap_pp < $revenue_warning_pp THEN '预警线' ELSE '提示线' END,
                CASE WHEN revenue_gap_pp < $revenue_warning_pp THEN $revenue_warning_pp ELSE $revenue_prompt_pp END) END,
           CASE WHEN sev_advances > 0 THEN printf('暂付款比例 %.1f%% 高于控制线 %.1f%%',
                100 * advances_ratio, 100 * $advances_cap) END
       ], lambda r: r IS NOT NULL) AS reasons,
       sev_coverage, sev_last_payday, sev_next_payday, sev_forward, sev_revenue, sev_advances,
       next_payday_cutoff, history_months, account_balance, forward_need, forward_available
FROM tiered
ORDER BY as_of, tier DESC, county_code
