"""Write the realistic CRM export of tests/fixtures/data/crm_export/ (issue 15's "Done when").

Usage (from the repository root)::

    python scripts/dev/make_crm_export.py                # rewrite the four CSV files
    python scripts/dev/make_crm_export.py --check        # exit 1 if they differ from a rewrite
    python scripts/dev/make_crm_export.py --out /tmp/x   # somewhere else

The files have the shape of the public "CRM Sales Opportunities" sample (Maven Analytics) —
four tables as a CRM exports them — but none of its content: every name, account and figure is
drawn here from a seeded generator, so the same files come out on every run. What a real
export brings is kept on purpose:

- people known by name only (no e-mails), managers and regional offices as text;
- stages as text (``Prospecting``, ``Engaging``, ``Won``, ``Lost``), no status column;
- gaps: Prospecting deals have no engage date, open deals no close date and no close value,
  ~15% of open deals no account, accounts without revenue, employees or parent;
- typos: the sector ``technolgy`` beside ``technology``; the product ``GTXPro`` in some rows;
- lost deals have a close value of 0; won deals the product's price less or plus a discount;
- revenue in millions with decimals; two agents who never had a deal.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "data" / "crm_export"
SEED = 20_240_615
FIRST_CLOSE = dt.date(2023, 1, 1)
LAST_CLOSE = dt.date(2024, 12, 31)
EARLIEST_ENGAGE = dt.date(2022, 10, 17)
PIPELINE_ROWS = 4_000

# product, series, list price (the catalogue's price; won deals close around it).
PRODUCTS = [
    ("GTX Basic", "GTX", 550),
    ("GTX Pro", "GTX", 4821),
    ("MG Special", "MG", 55),
    ("MG Advanced", "MG", 3393),
    ("GTX Plus Pro", "GTX", 5482),
    ("GTX Plus Basic", "GTX", 1096),
    ("GTK 500", "GTK", 26768),
]
PRODUCT_WEIGHTS = [0.17, 0.14, 0.17, 0.16, 0.14, 0.205, 0.015]
# The typo a hand-kept CRM picklist lets through, in about 1 in 12 GTX Pro rows.
PRODUCT_TYPO = ("GTX Pro", "GTXPro", 1 / 12)

SECTORS = [
    "technology", "medical", "retail", "software", "entertainment", "marketing",
    "telecommunications", "finance", "services", "employment",
]  # fmt: skip
COUNTRIES = [
    "United States", "United States", "United States", "United States", "Germany", "Kenya",
    "Philippines", "Japan", "Italy", "Norway", "Brazil", "Korea", "Poland", "Jordan", "China",
]  # fmt: skip
ACCOUNT_WORDS_A = [
    "Blue", "Cobalt", "Granite", "Harbor", "Iron", "Juniper", "Kestrel", "Lumen", "Maple",
    "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood", "Summit", "Tidal", "Umber", "Vertex",
    "Willow", "Zephyr", "Amber", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Glacier",
]  # fmt: skip
ACCOUNT_WORDS_B = [
    "Systems", "Labs", "Holdings", "Networks", "Dynamics", "Solutions", "Works", "Group",
    "Partners", "Industries", "Media", "Health", "Logistics", "Analytics", "Retail",
]  # fmt: skip
FIRST_NAMES = [
    "Anna", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kemal", "Lina", "Marek", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamar",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoë", "Amadou", "Beatriz", "Cormac", "Daria",
    "Emeka", "Freya", "Goran", "Hana", "Ilse", "José", "Kalani", "Lucía", "Mateo", "Noor",
    "Olu", "Pavel", "Renée", "Sadia", "Tomasz",
]  # fmt: skip
LAST_NAMES = [
    "Abara", "Bergström", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Haddad",
    "Ishikawa", "Jovanović", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "O'Brien",
    "Petrov", "Quispe", "Rahman", "Santos", "Takahashi", "Underwood", "Varga", "Whitfield",
    "Xu", "Yilmaz", "Zimmermann", "Adeyemi", "Brennan", "Chaudhry", "Delgado", "Esposito",
    "Fischer", "Grünewald", "Horvat", "Ibáñez", "Jensen", "Kruger", "Laurent", "Mbeki",
    "Novak", "Okafor", "Park", "Rossi", "Silva", "Tanaka",
]  # fmt: skip
OFFICES = ["Central", "East", "West"]
AGENTS_PER_MANAGER = [6, 6, 5, 7, 5, 6]  # 35 agents under 6 managers, two per office
IDLE_AGENTS = 2  # agents listed in the team with no deal at all (as in real exports)


def _people(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct full names."""
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in names:
            names.append(name)
    return names


def sales_teams(rng: np.random.Generator) -> list[dict]:
    people = _people(rng, len(AGENTS_PER_MANAGER) + sum(AGENTS_PER_MANAGER))
    managers, agents = people[: len(AGENTS_PER_MANAGER)], people[len(AGENTS_PER_MANAGER) :]
    rows, start = [], 0
    for index, (manager, size) in enumerate(zip(managers, AGENTS_PER_MANAGER, strict=True)):
        office = OFFICES[index // 2]
        for agent in agents[start : start + size]:
            rows.append({"sales_agent": agent, "manager": manager, "regional_office": office})
        start += size
    return rows


def accounts(rng: np.random.Generator, count: int = 85) -> list[dict]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(ACCOUNT_WORDS_A)} {rng.choice(ACCOUNT_WORDS_B)}"
        if name not in names:
            names.append(name)
    rows = []
    for index, name in enumerate(names):
        sector = str(rng.choice(SECTORS))
        if sector == "technology" and rng.random() < 0.4:
            sector = "technolgy"  # the typo the source CRM's free-text field let in
        revenue = round(float(rng.lognormal(6.5, 1.3)), 2)  # millions, e.g. 718.62
        employees = int(rng.lognormal(7.5, 1.4)) + 5
        parent = names[int(rng.integers(0, index))] if index > 5 and rng.random() < 0.12 else ""
        rows.append(
            {
                "account": name,
                "sector": sector,
                "year_established": int(rng.integers(1979, 2018)),
                "revenue": "" if rng.random() < 0.05 else f"{revenue:.2f}",
                "employees": "" if rng.random() < 0.05 else employees,
                "office_location": str(rng.choice(COUNTRIES)),
                "subsidiary_of": parent,
            }
        )
    return rows


def _opportunity_id(rng: np.random.Generator, taken: set[str]) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    while True:
        value = "".join(rng.choice(alphabet, 8))
        if value not in taken:
            taken.add(value)
            return value


def _days(start: dt.date, end: dt.date) -> int:
    return (end - start).days


def _closed_dates(rng: np.random.Generator) -> tuple[dt.date, dt.date]:
    """(engage, close) of a closed deal: close in the two years, a cycle of 1 to 140 days."""
    while True:
        close = FIRST_CLOSE + dt.timedelta(
            days=int(rng.integers(0, _days(FIRST_CLOSE, LAST_CLOSE) + 1))
        )
        cycle = int(min(max(rng.gamma(2.0, 24.0), 1), 140))
        engage = close - dt.timedelta(days=cycle)
        if engage >= EARLIEST_ENGAGE:
            return engage, close


def _product(rng: np.random.Generator) -> tuple[str, int]:
    index = int(rng.choice(len(PRODUCTS), p=PRODUCT_WEIGHTS))
    name, _series, price = PRODUCTS[index]
    shown = name
    if name == PRODUCT_TYPO[0] and rng.random() < PRODUCT_TYPO[2]:
        shown = PRODUCT_TYPO[1]
    return shown, price


def pipeline_row(rng, *, taken: set[str], agent: str, account_names: list[str]) -> dict:
    stage = str(rng.choice(["Won", "Lost", "Engaging", "Prospecting"], p=[0.48, 0.28, 0.18, 0.06]))
    product, price = _product(rng)
    account = str(rng.choice(account_names))
    engage = close = value = ""
    if stage in ("Won", "Lost"):
        engaged_on, closed_on = _closed_dates(rng)
        engage, close = engaged_on.isoformat(), closed_on.isoformat()
        # A discount (or an uplift) around the list price; a lost deal is exported as 0.
        value = str(round(price * float(rng.uniform(0.88, 1.08)))) if stage == "Won" else "0"
    else:
        if stage == "Engaging":
            # Open deals cluster at the end, and a few stalled ones go back a year or more.
            back = int(min(rng.exponential(90.0), _days(EARLIEST_ENGAGE, LAST_CLOSE)))
            engage = (LAST_CLOSE - dt.timedelta(days=back)).isoformat()
        if rng.random() < 0.15:
            account = ""  # the CRM lets an open deal exist before its account is known
    return {
        "opportunity_id": _opportunity_id(rng, taken),
        "sales_agent": agent,
        "product": product,
        "account": account,
        "deal_stage": stage,
        "engage_date": engage,
        "close_date": close,
        "close_value": value,
    }


def sales_pipeline(rng, teams: list[dict], account_rows: list[dict]) -> list[dict]:
    active = [row["sales_agent"] for row in teams][: len(teams) - IDLE_AGENTS]
    # Some agents sell a lot more than others (weights 0.4 to 1.6).
    weights = rng.uniform(0.4, 1.6, len(active))
    weights /= weights.sum()
    account_names = [row["account"] for row in account_rows]
    taken: set[str] = set()
    rows = [
        pipeline_row(
            rng,
            taken=taken,
            agent=str(active[int(rng.choice(len(active), p=weights))]),
            account_names=account_names,
        )
        for _ in range(PIPELINE_ROWS)
    ]
    # An export is sorted by nothing in particular; by close then engage date is what the
    # source's looks like (open deals last).
    return sorted(rows, key=lambda r: (r["close_date"] or "9999", r["engage_date"] or "9999"))


def _csv_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export_files() -> dict[str, str]:
    """{file name: CSV text} of the four tables, the same on every run."""
    rng = np.random.default_rng(SEED)
    teams = sales_teams(rng)
    account_rows = accounts(rng)
    products = [{"product": n, "series": s, "sales_price": p} for n, s, p in PRODUCTS]
    pipeline = sales_pipeline(rng, teams, account_rows)
    return {
        "accounts.csv": _csv_text(account_rows),
        "products.csv": _csv_text(products),
        "sales_teams.csv": _csv_text(teams),
        "sales_pipeline.csv": _csv_text(pipeline),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    files = export_files()
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (args.out / name).exists()
            or (args.out / name).read_text(encoding="utf-8") != text
        ]
        for name in stale:
            print(f"{args.out / name} differs from a fresh run", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{args.out / name}: {text.count(chr(10)) - 1} rows, {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
