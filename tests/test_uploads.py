"""Receiving uploads safely, downloads of versions, commit of a checked extract, crash safety end to end."""
from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fiscal import settings, uploads
from fiscal.ingest import check, commit, ingest, replaced_values
from fiscal.lake import Lake
from fiscal.validation import check_file
from tests.conftest import D, frame
from tests.upload_support import ROOT, UPLOADS, build_demo, copy_lake, fingerprint


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("template") / "lake")


@pytest.fixture
def lake(demo_template, tmp_path):
    return Lake(copy_lake(demo_template, tmp_path / "lake"))


# ---------------------------------------------------------------- the limit agrees everywhere

def test_upload_limit_matches_streamlit_config_and_validation():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == 2 * settings.MAX_UPLOAD_BYTES
    assert check_file.__kwdefaults__["max_bytes"] == settings.MAX_UPLOAD_BYTES
    assert uploads.widget_limit_mb(settings.MAX_UPLOAD_BYTES) == config["server"]["maxUploadSize"]


def test_environment_can_only_lower_the_limit(monkeypatch):
    monkeypatch.setenv("FISCAL_MAX_UPLOAD_BYTES", "2048")
    assert settings.max_upload_bytes() == 2048 and uploads.widget_limit_mb(2048) == 1
    assert uploads.widget_limit_mb(10 * settings.MIB) == 20  # a file over the limit still reaches the server
    monkeypatch.setenv("FISCAL_MAX_UPLOAD_BYTES", str(10 * settings.MAX_UPLOAD_BYTES))
    assert settings.max_upload_bytes() == settings.MAX_UPLOAD_BYTES
    monkeypatch.setenv("FISCAL_MAX_UPLOAD_BYTES", "lots")
    assert settings.max_upload_bytes() == settings.MAX_UPLOAD_BYTES


# ---------------------------------------------------------------- display names

@pytest.mark.parametrize("raw, shown", [
    ("库款日报.csv", "库款日报.csv"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\财政局\\Desktop\\库款.xlsx", "库款.xlsx"),
    ("/abs/path/to/file.parquet", "file.parquet"),
    ("evil\u202egpj.csv", "evilgpj.csv"),  # right-to-left override removed
    ("line\nbreak\x00.csv", "linebreak.csv"),
    ("..hidden.csv", "hidden.csv"),
    ("", "未命名文件"),
    (None, "未命名文件"),
    ("../", "未命名文件"),
])
def test_display_name_is_a_clean_last_component(raw, shown):
    assert uploads.display_name(raw) == shown


def test_long_names_are_cut_keeping_the_extension():
    shown = uploads.display_name("很" * 300 + ".xlsx")
    assert len(shown) <= 120 and shown.endswith("….xlsx")


# ---------------------------------------------------------------- spooling

class Recorder(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.sizes = []

    def read(self, n=-1):
        self.sizes.append(n)
        return super().read(n)


def test_spool_copies_in_chunks_to_a_private_file_that_is_removed(tmp_path):
    data = os.urandom(300_000)
    source = Recorder(data)
    with uploads.spool(source, "../../库款.csv", chunk=65536, directory=tmp_path) as spooled:
        assert spooled.path.parent == tmp_path and spooled.path.name.startswith("fiscal-upload-")
        assert spooled.path.suffix == ".csv"
        assert "库款" not in spooled.path.name and spooled.path.read_bytes() == data
        assert stat.S_IMODE(spooled.path.stat().st_mode) == 0o600
        assert spooled.size == len(data) and spooled.display_name == "库款.csv"
    assert set(source.sizes) == {65536} and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, suffix", [("a.XLSX", ".xlsx"), ("a.parquet", ".parquet"), ("a.exe", ".upload"),
                                          ("noext", ".upload"), ("x.csv/../../y", ".upload")])
def test_spool_keeps_only_a_whitelisted_extension(tmp_path, name, suffix):
    with uploads.spool(io.BytesIO(b"abc"), name, directory=tmp_path) as spooled:
        assert spooled.path.suffix == suffix and spooled.path.name.startswith("fiscal-upload-")


def test_spool_removes_the_file_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError), uploads.spool(io.BytesIO(b"abc"), "a.csv", directory=tmp_path):
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_spool_stops_at_the_limit_and_leaves_nothing(tmp_path):
    with pytest.raises(uploads.UploadTooLarge) as too_big:
        with uploads.spool(io.BytesIO(b"x" * 5000), "big.csv", max_bytes=4096, chunk=1024, directory=tmp_path):
            pass
    assert str(too_big.value) == "文件超过上限 4.0 KB，请拆分后分批上传"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(uploads.UploadTooLarge, match="文件大小 60.0 MB，超过上限 50.0 MB"):
        with uploads.spool(io.BytesIO(b""), "big.csv", size_hint=60 * settings.MIB, directory=tmp_path):
            pass


# ---------------------------------------------------------------- downloads of a version

def test_version_downloads_hold_every_table_with_formulas_neutralised(lake):
    evil = frame("counties", [("990101", "=HYPERLINK(\"http://x\",\"点我\")", "演示甲市", 1.0)])
    lake.upsert("counties", evil, user="t")
    names = {"county_code", "date"}
    with zipfile.ZipFile(io.BytesIO(uploads.version_csv_zip(lake, 1))) as archive:
        files = sorted(archive.namelist())
        assert len(files) == 6 and "县区名录_counties_v1.csv" in files
        text = archive.read("县区名录_counties_v1.csv").decode("utf-8-sig")
        assert text.splitlines()[0] == "区划代码,县区名称,所属市,人口"
        assert "'=HYPERLINK" in text
        treasury = pd.read_csv(io.BytesIO(archive.read("库款日报_treasury_v1.csv")), encoding="utf-8-sig")
        assert len(treasury) == len(lake.read("treasury")) and names.isdisjoint(treasury.columns)
    with zipfile.ZipFile(io.BytesIO(uploads.version_csv_zip(lake, 0))) as archive:
        assert "=HYPERLINK" not in archive.read("县区名录_counties_v0.csv").decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(uploads.version_workbook(lake, 1)))
    assert book.sheetnames == ["县区名录", "库款日报", "工资发放计划", "工资专户余额", "收入进度", "暂付款"]
    cell = book["县区名录"]["B2"]
    assert cell.value == "=HYPERLINK(\"http://x\",\"点我\")" and cell.data_type == "s" and cell.quotePrefix
    assert book["库款日报"].max_row == len(lake.read("treasury")) + 1


def test_a_downloaded_version_can_be_uploaded_again(lake, tmp_path):
    with zipfile.ZipFile(io.BytesIO(uploads.version_csv_zip(lake, 0))) as archive:
        path = tmp_path / "treasury.csv"
        path.write_bytes(archive.read("库款日报_treasury_v0.csv"))
    checked = check(lake, path)
    assert checked.ok and checked.extract.kind == "treasury" and checked.preview.new_rows == 0


def test_problems_frame_has_the_report_columns(lake):
    checked = check(lake, UPLOADS / "text_amount.csv")
    table = uploads.problems_frame(checked.problems)
    assert list(table.columns) == ["级别", "行", "列", "值", "问题"]
    assert table.iloc[0].tolist() == ["错误", 3, "库款余额", "一万二", "不是有效的数字"]


# ---------------------------------------------------------------- commit of a checked extract

def test_commit_writes_the_checked_extract_without_reading_the_file_again(lake, tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes((UPLOADS / "good_treasury.csv").read_bytes())
    checked = check(lake, path, source_name="库款.csv")
    path.unlink()  # gone: commit must not need it
    result = commit(lake, checked, user="分析员")
    assert result.version == 1
    newest = lake.history()[0]
    assert (newest.user, newest.file_name, newest.sha256, newest.rows, newest.inserted, newest.updated) == \
        ("分析员", "库款.csv", checked.sha256, 3, 2, 1)


@pytest.mark.parametrize("lake_rows, replaced", [
    ([], 0),  # no treasury table yet: the first load of a province's history
    ([("990101", D(2026, 11, 20), 9800.0, 100.0, 100.0)], 1),  # a lake smaller than the upload
    ([("990101", D(2026, 11, 20), 9800.0, 100.0, 100.0), ("990103", D(2026, 11, 21), 9800.0, 100.0, 100.0),
      ("990101", D(2026, 11, 19), 9800.0, 100.0, 100.0), ("990102", D(2026, 11, 21), 9800.0, 100.0, 100.0)], 2),  # larger
])
def test_preview_counts_the_keys_the_lake_already_has(make_lake, lake_rows, replaced):
    lake = make_lake(counties=[("990101", "甲县", "测试市"), ("990102", "乙县", "测试市"), ("990103", "丙县", "测试市")],
                     **({"treasury": lake_rows} if lake_rows else {}))
    checked = check(lake, UPLOADS / "good_treasury.csv")  # 990101 on 11-20 and 11-21, 990102 on 11-21
    assert checked.ok, checked.problems
    assert (checked.preview.new_rows, checked.preview.replaced_rows) == (3 - replaced, replaced)


def test_commit_after_the_lake_moved_on_shows_a_fresh_preview_first(lake):
    checked = check(lake, UPLOADS / "good_treasury.csv")
    assert (checked.preview.new_rows, checked.preview.replaced_rows) == (2, 1)
    lake.upsert("treasury", frame("treasury", [("990101", D(2026, 11, 21), 1.0, 0.0, 0.0)]), user="other")
    before = fingerprint(lake.root)
    stale = commit(lake, checked, user="分析员")
    assert stale.version is None and fingerprint(lake.root) == before
    assert stale.messages == ["检查之后数据湖已更新到版本 1，已按最新数据重新计算变更预览，请确认后再导入"]
    assert (stale.preview.new_rows, stale.preview.replaced_rows, stale.lake_version) == (1, 2, 1)
    done = commit(lake, stale, user="分析员")
    assert done.version == 2 and lake.history()[0].updated == 2


def test_commit_rechecks_counties_when_the_lake_moved_on(lake):
    checked = check(lake, UPLOADS / "good_treasury.csv")
    # Another analyst's change removed a county the file uses (e.g. a rollback to a lake without it).
    counties = lake.read("counties")
    lake.replace_all({"counties": counties[counties.county_code != "990102"]}, user="x", operation="ingest")
    stale = commit(lake, checked, user="分析员")
    assert stale.version is None and not stale.ok
    assert [p.message for p in stale.errors] == [
        "第 5 行，列「区划代码」，值「990102」：区划代码不在县区名录中，请先在县区名录中补充该县区"]


# ---------------------------------------------------------------- a crash during commit, end to end

CRASHING_INGEST = r"""
import os, signal, sys
from pathlib import Path
import fiscal.lake
from fiscal.ingest import ingest
from fiscal.lake import Lake

lake = Lake(sys.argv[1])
def write(*args, **kwargs):
    # What a writer killed mid-commit leaves: a data file no log entry mentions.
    Path(lake.root, "treasury", "part-00000-crashed-c000.snappy.parquet").write_bytes(b"PAR1 half written")
    print("writing", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
fiscal.lake.write_deltalake = write  # the write of the treasury rows the upload replaces
ingest(lake, sys.argv[2], user="crash")
print("committed", flush=True)
"""


@pytest.mark.slow
def test_a_commit_killed_mid_write_leaves_the_previous_version(lake):
    rows_before = lake.read("treasury").sort_values(["county_code", "date"]).reset_index(drop=True)
    log_before = fingerprint(lake.root / "treasury" / "_delta_log")
    history_before = lake.history()
    proc = subprocess.run([sys.executable, "-c", CRASHING_INGEST, str(lake.root), str(UPLOADS / "good_treasury.csv")],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL and proc.stdout.strip() == "writing"
    reopened = Lake(lake.root)
    assert fingerprint(lake.root / "treasury" / "_delta_log") == log_before
    assert reopened.history() == history_before
    pd.testing.assert_frame_equal(reopened.read("treasury").sort_values(["county_code", "date"]).reset_index(drop=True),
                                  rows_before)
    # The lock died with the writer; the next ingest goes through and sweeps the leftover.
    result = ingest(reopened, UPLOADS / "good_treasury.csv", user="next")
    assert result.version == 1
    assert not (lake.root / "treasury" / "part-00000-crashed-c000.snappy.parquet").exists()


def test_the_rows_an_upload_replaces_are_shown_now_and_new_in_the_files_order(lake, tmp_path):
    treasury = lake.read("treasury").sort_values(["date", "county_code"])
    last, earlier = treasury.iloc[-1], treasury.iloc[0]  # two rows the lake has, far apart in time
    path = tmp_path / "treasury.csv"
    path.write_text("单位：万元\n区划代码,日期,库款余额,库款流入,库款流出\n"
                    f"{last['county_code']},{last['date']:%Y-%m-%d},1.5,2.5,3.5\n"
                    f"{last['county_code']},2099-01-01,9,9,9\n"  # new: replaces nothing
                    f"{earlier['county_code']},{earlier['date']:%Y-%m-%d},4.5,5.5,6.5\n", encoding="utf-8")
    checked = check(lake, path, today=D(2099, 1, 2))
    assert checked.ok, [p.message for p in checked.errors]
    dtypes = checked.extract.frame.dtypes.to_dict()
    shown = replaced_values(lake, checked.extract)
    assert list(shown.columns) == ["区划代码", "日期", "库款余额（现值）", "库款余额（新值）", "库款流入（现值）",
                                   "库款流入（新值）", "库款流出（现值）", "库款流出（新值）"]
    assert [(code, str(day)) for code, day in zip(shown["区划代码"], shown["日期"])] == [
        (last["county_code"], f"{last['date']:%Y-%m-%d}"), (earlier["county_code"], f"{earlier['date']:%Y-%m-%d}")]
    assert shown["库款余额（现值）"].tolist() == [last["balance"], earlier["balance"]]
    assert shown["库款余额（新值）"].tolist() == [1.5, 4.5] and shown["库款流出（新值）"].tolist() == [3.5, 6.5]
    assert checked.extract.frame.dtypes.to_dict() == dtypes  # the upload itself is left as it was read
    assert replaced_values(lake, checked.extract, limit=1)["区划代码"].tolist() == [last["county_code"]]


def test_the_preview_matches_every_key_column_of_a_monthly_extract(lake, tmp_path):
    # Revenue's key is county, year, month and category: one row repeats a key the lake has,
    # the other differs from it only in the category.
    existing = lake.read("revenue").iloc[0]
    key = f"{existing['county_code']},{existing['year']},{existing['month']}"
    path = tmp_path / "revenue.csv"
    path.write_text("单位：万元\n区划代码,年度,月份,收入类别,年初预算,累计完成\n"
                    f"{key},{existing['category']},100,50\n{key},{existing['category']}（新）,100,50\n", encoding="utf-8")
    checked = check(lake, path)
    assert checked.ok, [p.message for p in checked.errors]
    assert (checked.preview.new_rows, checked.preview.replaced_rows) == (1, 1)
    assert checked.preview.first_date is None and checked.preview.counties == [existing["county_code"]]
