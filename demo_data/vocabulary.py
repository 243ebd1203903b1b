"""The demo world's vocabulary and tuning: names, regions, industries, processes, archetypes."""

from __future__ import annotations

from accounts.models import Activity, ForecastCategory
from salesmgmt.models import Role, SalesRole

DEMO_PASSWORD = "demo1234!"  # noqa: S105 - published on purpose: seed_demo prints it
# external_id prefix of every demo person and account: how reset finds demo data.
DEMO_MARKER = "demo:"
EMAIL_DOMAIN = "demo.example.com"
TEAM_SIZE = 8
TEAM_ROLES = {5: SalesRole.SDR, 6: SalesRole.AM, 7: SalesRole.SE}  # by seat in the team
MANAGERS_PER_DIRECTOR = 5
HISTORY_QUARTERS = 8
RAMP_DAYS = 90
WARMUP_DAYS = 180
# A deal whose close date is pushed more often than this is closed lost as stalled.
MAX_SLIPS = 3
MEAN_STAGE_DAYS = 28.0
# Deal creation grows by e**GROWTH over the window (about 2x).
GROWTH = 0.9

# (username, first, last, title, role); the rep reports to the manager, who reports up to
# the executive through a director.
LOGINS = [
    ("rep", "Riley", "Santos", "Account Executive", Role.REP),
    ("manager", "Marcus", "Webb", "Sales Manager", Role.MANAGER),
    ("executive", "Evelyn", "Hart", "Chief Revenue Officer", Role.EXECUTIVE),
    ("admin", "Alex", "Morgan", "Sales Operations", Role.ADMIN),
    ("integrator", "Data", "Sync", "Integration account", Role.INTEGRATOR),
]

# fmt: off
# The vocabulary of the demo world; kept as compact tables, not one word a line.
PC = ForecastCategory
PROCESSES = [
    # name, description, may be the default, [(stage, forecast category, [(milestone, evidence)])]
    ("Standard B2B", "Multi-stakeholder deals with exit criteria at every stage.", True, [
        ("Qualify", PC.PIPELINE, [("Budget holder identified", False),
                                  ("Pain confirmed by the buyer", True)]),
        ("Discover", PC.PIPELINE, [("Discovery meeting with stakeholders", True),
                                   ("Success criteria agreed", True),
                                   ("Decision process mapped", False)]),
        ("Solution", PC.BEST_CASE, [("Demo delivered to the buying group", False),
                                    ("Proposal sent", True)]),
        ("Negotiate", PC.BEST_CASE, [("Pricing accepted in principle", True),
                                     ("Legal review started", False)]),
        ("Commit", PC.COMMIT, [("Contract signed", True)]),
    ]),
    ("Transactional", "Short-cycle deals with a single buyer.", False, [
        ("Qualify", PC.PIPELINE, [("Need confirmed", False)]),
        ("Demo", PC.BEST_CASE, [("Demo delivered", False), ("Quote sent", True)]),
        ("Close", PC.COMMIT, [("Order form signed", True)]),
    ]),
]
# region -> [(country, currency, [states or cities])]; teams take regions in this order, so
# even a two-team org sells in EUR and GBP.
REGIONS = {
    "North America West": [("US", "USD", ["CA", "WA", "OR", "CO", "AZ", "UT"])],
    "EMEA": [("GB", "GBP", ["London", "Manchester"]), ("DE", "EUR", ["Berlin", "Munich"]),
             ("FR", "EUR", ["Paris", "Lyon"]), ("NL", "EUR", ["Amsterdam"]),
             ("ES", "EUR", ["Madrid"]), ("SE", "EUR", ["Stockholm"])],
    "North America East": [("US", "USD", ["NY", "MA", "IL", "GA", "FL", "NC"]),
                           ("CA", "USD", ["ON", "QC"])],
    "APAC": [("AU", "USD", ["NSW", "VIC"]), ("SG", "USD", ["Singapore"]),
             ("JP", "USD", ["Tokyo"]), ("IN", "USD", ["Bengaluru"])],
    "LATAM": [("BR", "USD", ["São Paulo"]), ("MX", "USD", ["CDMX"]), ("CL", "USD", ["Santiago"])],
}
# Each geography is led by its own regional VP (or directors, in a big demo).
GEO_OF_REGION = {"North America West": "Americas", "North America East": "Americas",
                 "LATAM": "Americas", "EMEA": "EMEA", "APAC": "APAC"}
# Starting rates (USD per unit); each quarter drifts from here.
START_RATES = {"EUR": 1.08, "GBP": 1.27}
INDUSTRIES = {  # industry -> words that end its companies' names
    "Software": ["Systems", "Labs", "Cloud"], "Financial Services": ["Bank", "Capital"],
    "Healthcare": ["Health", "Clinics"], "Manufacturing": ["Industries", "Manufacturing"],
    "Retail": ["Retail", "Stores"], "Education": ["Learning", "Academy"],
    "Telecommunications": ["Telecom", "Networks"], "Energy": ["Energy", "Power"],
    "Logistics": ["Logistics", "Freight"], "Media": ["Media", "Studios"],
    "Insurance": ["Insurance", "Assurance"], "Hospitality": ["Hotels", "Hospitality"],
}
NAME_STARTS = ["North", "Blue", "Silver", "Iron", "Bright", "Red", "Green", "Summit", "Clear",
               "Swift", "Stone", "Oak", "Pine", "River", "Lake", "Sun", "Star", "Gold", "Hill",
               "Bay", "Cedar", "Maple", "Harbor", "Falcon", "Copper", "Aspen", "Crystal"]
NAME_ENDS = ["wind", "peak", "field", "gate", "bridge", "works", "line", "point", "wave",
             "crest", "haven", "ridge", "forge", "light", "vale", "mark", "stream"]
FIRST_NAMES = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
               "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
               "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew",
               "Nancy", "Anil", "Priya", "Kenji", "Yuki", "Lukas", "Sofia", "Mateo", "Amara",
               "Olga", "Hugo", "Chloe", "Noah", "Emma", "Liam", "Ava", "Omar", "Fatima", "Wei",
               "Mei", "Ines"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
              "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
              "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott",
              "Nguyen", "Patel", "Kim", "Schmidt", "Mueller", "Rossi", "Dubois", "Tanaka",
              "Silva"]
CONTACT_TITLES = ["CFO", "CIO", "VP Operations", "Head of IT", "Procurement Manager",
                  "Director of Finance", "COO", "IT Manager", "VP Sales", "Head of Data"]
PRODUCTS = ["Platform", "Analytics add-on", "Enterprise licence", "Seat expansion", "Pilot",
            "Support upgrade", "Data integration", "Security module", "Renewal uplift"]
LOST_REASONS = [  # by stage position: early, middle, late
    ["No budget", "Not a fit", "No compelling event"],
    ["Lost to competitor", "No decision", "Champion left"],
    ["Price", "Lost to competitor in the final round", "Procurement freeze"],
]
STALLED_REASON = "Stalled: no decision"
ACTIVITY_KINDS = [  # (kind, weight) by stage position: early, middle, late
    [(Activity.Kind.CALL, 40), (Activity.Kind.EMAIL, 30), (Activity.Kind.MEETING, 15),
     (Activity.Kind.TASK, 15)],
    [(Activity.Kind.MEETING, 35), (Activity.Kind.DEMO, 25), (Activity.Kind.EMAIL, 25),
     (Activity.Kind.CALL, 15)],
    [(Activity.Kind.EMAIL, 35), (Activity.Kind.MEETING, 35), (Activity.Kind.CALL, 20),
     (Activity.Kind.TASK, 10)],
]
ACTIVITY_NOTES = {
    Activity.Kind.CALL: ["Intro call", "Follow-up on open questions", "Checked timeline"],
    Activity.Kind.EMAIL: ["Sent recap and next steps", "Shared case study", "Sent pricing"],
    Activity.Kind.MEETING: ["Stakeholder meeting", "Mapped the decision process",
                            "Reviewed success criteria"],
    Activity.Kind.DEMO: ["Product demo", "Technical deep dive", "Demo for the buying group"],
    Activity.Kind.TASK: ["Prepare proposal", "Update mutual action plan", "Internal deal review"],
}
CALL_NOTES = ["Two renewals slipping to next quarter", "Commit includes the signed order forms",
              "Best case if procurement signs this month", "Pulled in one deal from next quarter",
              "Lost the largest deal in negotiation", "Pipeline covers the gap"]
ADJUSTMENT_NOTES = ["Paper process not started on the largest deal",
                    "History of late-quarter slips: trimmed", "Champion confirmed budget: raised",
                    "Procurement not engaged yet", "Two deals depend on legal review",
                    "Calls low every quarter: raised to the pipeline"]
NEXT_STEPS = ["Send proposal", "Book technical review", "Meet the economic buyer",
              "Confirm budget", "Agree on the mutual action plan", "Legal review"]
# Where deals come from; "" (none recorded) as old CRMs leave it on some deals.
LEAD_SOURCES = ["Website", "Referral", "Webinar", "Trade show", "Outbound", "Partner", ""]
# fmt: on
# Per-rep skill archetypes: (share, early-stage skill, late-stage skill) as logit shifts, so
# some reps convert well at discovery and badly at closing, and the other way round.
ARCHETYPES = {
    "balanced": (0.40, 0.0, 0.0),
    "opener": (0.20, 1.2, -1.2),
    "closer": (0.20, -0.9, 1.1),
    "star": (0.10, 0.8, 0.8),
    "struggling": (0.10, -0.6, -0.6),
}
SEGMENTS = {  # name: (share, employees range, median deal in USD, stage-duration scale)
    "smb": (0.45, (10, 199), 9000, 0.6),
    "mid_market": (0.35, (200, 1999), 38000, 1.0),
    "enterprise": (0.20, (2000, 50000), 150000, 1.6),
}
# The rep's own forecast category: set on this share of open deals (the rest follow their
# stage's default), moving it from the stage default to a likely neighbour.
CHOSEN_CATEGORY_SHARE = 0.2
CATEGORY_CHOICES = {
    ForecastCategory.PIPELINE: [(ForecastCategory.BEST_CASE, 0.6), (ForecastCategory.OMITTED, 0.4)],
    ForecastCategory.BEST_CASE: [
        (ForecastCategory.COMMIT, 0.6),
        (ForecastCategory.PIPELINE, 0.2),
        (ForecastCategory.OMITTED, 0.2),
    ],
    ForecastCategory.COMMIT: [(ForecastCategory.BEST_CASE, 0.7), (ForecastCategory.OMITTED, 0.3)],
}
# Credit: a few won deals are split with a teammate (the owner keeps 60 % or 50 %); about
# one in a hundred is cancelled by the customer a few weeks to months after closing.
SPLIT_SHARE = 0.05
SPLIT_PERCENTS = (60, 50)
CANCELLED_SHARE = 0.01
CANCELLED_MAX_USD = 30000  # customers back out of small deals in their opt-out window
CANCEL_REASONS = [
    "Customer cancelled within the opt-out window",
    "Budget withdrawn after signing",
    "Acquired; contract terminated",
    "Failed security review after signing",
]
# A seller's accounts are mostly of their own segment; small-deal sellers work more deals.
OWN_SEGMENT_SHARE = 0.95
DEALS_BY_SEGMENT = {"smb": 1.3, "mid_market": 1.0, "enterprise": 0.8}
TRANSACTIONAL_SHARE = {"smb": 0.7, "mid_market": 0.2, "enterprise": 0.0}
