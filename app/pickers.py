"""County pickers that never send every county: the city first, then a county of that city."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st


def county_picker(frame: pd.DataFrame, *, key: str, default: str | None = None, columns=None) -> str:
    """A county of `frame`, chosen by its city first, then among that city's counties: two short
    lists instead of one of every county, which at national scale is some 90 KB sent on every
    rerun. The counties of a city are listed in code order; the city's first county in `frame`'s
    order (the riskiest, in a metrics frame) is chosen when the city changes. `default`: the county
    shown first (else `frame`'s first). The county is `st.session_state[key]`, the city
    `[key + "_city"]`; set the county with `choose_county` before the picker is drawn (a link)."""
    city_key = f"{key}_city"
    cities = _cities_of(frame)
    chosen = st.session_state.get(key)
    if st.session_state.get(city_key) not in cities.counties:
        start = chosen if chosen in cities.county_city else default if default in cities.county_city \
            else frame["county_code"].iloc[0]
        st.session_state[city_key] = cities.county_city[start]
        st.session_state[key] = start
    city_column, county_column = columns or st.columns([1, 2])
    city = city_column.selectbox("市", list(cities.counties), key=city_key, persist_state="session")
    counties = cities.counties[city]
    if st.session_state.get(key) not in counties:  # another city was chosen: its first county
        st.session_state[key] = cities.first[city]
    return county_column.selectbox("县区", list(counties), format_func=counties.get, key=key, persist_state="session")


def choose_county(frame: pd.DataFrame, *, key: str, code: str) -> None:
    """Show `code` in the `county_picker` of `key` (with its city) at its next drawing."""
    st.session_state[f"{key}_city"] = _cities_of(frame).county_city[code]
    st.session_state[key] = code


@dataclass(frozen=True)
class _Cities:
    counties: dict[str, dict[str, str]]  # city → {county_code: county_name}, cities and counties in code order
    first: dict[str, str]  # city → its first county in the frame's order
    county_city: dict[str, str]  # county_code → city


def _cities_of(frame: pd.DataFrame) -> _Cities:
    by_code = frame.sort_values("county_code", kind="stable")
    counties: dict[str, dict[str, str]] = {}
    for code, name, city in zip(by_code["county_code"].tolist(), by_code["county_name"].tolist(),
                                by_code["city_name"].tolist()):
        counties.setdefault(city, {})[code] = name
    firsts = frame.drop_duplicates("city_name")
    first = dict(zip(firsts["city_name"].tolist(), firsts["county_code"].tolist()))
    county_city = dict(zip(frame["county_code"].tolist(), frame["city_name"].tolist()))
    return _Cities(counties, first, county_city)
