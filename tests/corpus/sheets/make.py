#!/usr/bin/python3
"""Makes the spreadsheets of tests/corpus/sheets/ with LibreOffice Calc itself (through
its UNO API, headless), so the files are what a real spreadsheet program writes: number
cells, text cells, dates with a date format, formulas with their computed values, several
sheets. Run it with Debian's python3 (for its `uno` module) beside `soffice`, with
`msoffcrypto-tool` (PyPI) on the PATH for the password-protected .xlsx:

    /usr/bin/python3 tests/corpus/sheets/make.py

Each workbook has a CSV twin written by hand (`<name>.<sheet>.csv`): the text a person
reads in each sheet, which the importer must read from the workbook exactly as from the
twin. The files are committed; the tests do not need LibreOffice.
"""

import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.lang import Locale

HERE = os.path.dirname(os.path.abspath(__file__))

# A cell: ("n", number) a number cell; ("s", text) a text cell (even if it is digits);
# ("f", formula) a formula; ("d", "YYYY-MM-DD") a date cell; ("t", "YYYY-MM-DD HH:MM:SS")
# a date-time cell; ("b", bool) a boolean (TRUE()/FALSE()); None an empty cell.
OUTLOOK = [
    [("s", "First Name"), ("s", "Last Name"), ("s", "Company"), ("s", "E-mail Address"),
     ("s", "Mobile Phone"), ("s", "Notes")],
    [("s", "Ann"), ("s", "Lee"), ("s", "Acme"), ("s", "ann@acme.test"), ("n", 6581234567), None],
    [("s", "Bo"), ("s", "Tan"), None, ("s", "bo@acme.test"), ("s", "+65 9123 4567"), ("s", "VIP")],
    [("s", "Cy"), None, None, None, ("n", 81234568), None],
    [("s", "Di"), ("s", "Ong"), None, None, ("s", "6581234569"), ("s", "digits typed as text")],
    [("s", "Ed"), None, None, None, ("n", 6581234567), ("s", "same number as Ann")],
    [("s", "Fay"), None, None, None, ("f", "=NA()"), ("s", "lookup failed")],
    [("s", "Gus"), None, None, None, None, ("s", "no number")],
    [("s", "Hal"), ("s", "Lim"), None, None, ("n", 91234570), ("f", "=1/0")],
    [("s", "Ivy"), None, None, None, ("n", 447700900123), None],
    [("s", "Jo"), None, None, None, ("s", "12"), ("s", "too short")],
]

DATES = [
    [("s", "Mobile"), ("s", "Name"), ("s", "Birthday"), ("s", "Last order"), ("s", "Orders"),
     ("s", "Total"), ("s", "Member")],
    [("n", 81230001), ("s", "Ann"), ("d", "1990-05-17"), ("t", "2024-03-01 09:30:00"),
     ("n", 3), ("f", "=E2*19.9"), ("b", True)],
    [("f", '="+65 8123 "&"0002"'), ("s", "Bo"), ("d", "2000-02-29"), ("t", "2023-12-31 23:59:59"),
     ("n", 0.5), ("f", "=0.1+0.2"), ("b", False)],
    [("n", 81230003), ("f", '=UPPER("cy")'), ("d", "1969-07-20"), None,
     ("n", 1234567890123), ("f", "=E4/1000"), None],
]

TWO_SHEETS = {
    "Cover": [],
    "January": [
        [("s", "Mobile"), ("s", "First name")],
        [("n", 81240001), ("s", "Ann")],
        [("n", 81240002), ("s", "Bo")],
        [("n", 81240003), ("s", "Cy")],
    ],
    "February": [
        [("s", "Mobile"), ("s", "First name")],
        [("n", 81240004), ("s", "Di")],
        [("n", 81240001), ("s", "Ann again")],
    ],
}

# (file, sheets, password to open it)
WORKBOOKS = [
    ("outlook.xlsx", {"Contacts": OUTLOOK}, None),
    ("outlook.xls", {"Contacts": OUTLOOK}, None),
    ("outlook.ods", {"Contacts": OUTLOOK}, None),
    ("dates-formulas.xlsx", {"Orders": DATES}, None),
    ("two-sheets.xlsx", TWO_SHEETS, None),
    ("password.xlsx", {"Contacts": OUTLOOK[:3]}, "secret"),
    ("password.xls", {"Contacts": OUTLOOK[:3]}, "secret"),
    ("password.ods", {"Contacts": OUTLOOK[:3]}, "secret"),
]

# "Excel 2007-365" (the one of LibreOffice's two .xlsx filters that can encrypt).
FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".xls": "MS Excel 97", ".ods": "calc8"}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def format_key(doc, code):
    formats = doc.NumberFormats
    locale = Locale("en", "US", "")
    key = formats.queryKey(code, locale, False)
    return key if key != -1 else formats.addNew(code, locale)


def fill(doc, sheet, rows):
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            kind, value = cell
            target = sheet.getCellByPosition(c, r)
            if kind == "n":
                target.setValue(float(value))
            elif kind == "s":
                target.setString(value)
            elif kind == "f":
                target.setFormula(value)
            elif kind == "b":
                target.setFormula("=TRUE()" if value else "=FALSE()")
            elif kind in ("d", "t"):
                date, _, clock = value.partition(" ")
                y, m, d = date.split("-")
                formula = f"=DATE({y};{m};{d})"
                code = "YYYY-MM-DD"
                if clock:
                    h, mi, s = clock.split(":")
                    formula += f"+TIME({h};{mi};{s})"
                    code = "YYYY-MM-DD HH:MM:SS"
                target.setFormula(formula)
                target.NumberFormat = format_key(doc, code)


def make(desktop, name, sheets, password):
    doc = desktop.loadComponentFromURL(
        "private:factory/scalc", "_blank", 0, (prop("Hidden", True),))
    names = list(sheets)
    all_sheets = doc.Sheets
    all_sheets.getByIndex(0).Name = names[0]
    for i, sheet_name in enumerate(names[1:], start=1):
        all_sheets.insertNewByName(sheet_name, i)
    for sheet_name, rows in sheets.items():
        fill(doc, all_sheets.getByName(sheet_name), rows)
    doc.calculateAll()
    path = os.path.join(HERE, name)
    url = uno.systemPathToFileUrl(path)
    args = [prop("FilterName", FILTERS[os.path.splitext(name)[1]])]
    ooxml_password = password if name.endswith(".xlsx") else None
    if password and not ooxml_password:
        args.append(prop("Password", password))
    doc.storeToURL(url, tuple(args))
    doc.close(True)
    if ooxml_password:
        # LibreOffice 7.4 saves .xlsx without its password when driven from here, so the
        # Excel-style encrypted package is made by msoffcrypto-tool (PyPI).
        subprocess.run(
            ["msoffcrypto-tool", "-e", "-p", ooxml_password, path, path + ".enc"], check=True)
        os.replace(path + ".enc", path)
    print(f"{name}: {os.path.getsize(path)} bytes")


def main():
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    office = subprocess.Popen([
        "soffice", "--headless", "--invisible", "--norestore", "--nologo",
        f"-env:UserInstallation=file://{profile}",
        "--accept=socket,host=127.0.0.1,port=2083;urp;",
    ])
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(100):
            try:
                context = resolver.resolve(
                    "uno:socket,host=127.0.0.1,port=2083;urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.2)
        else:
            sys.exit("soffice did not start")
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context)
        for name, sheets, password in WORKBOOKS:
            make(desktop, name, sheets, password)
        try:
            desktop.terminate()
        except Exception:
            pass  # the office quits before it answers
    finally:
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
