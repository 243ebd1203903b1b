from tests.salesmgmt.security.world import build_world
from tests.salesmgmt.security.probe import Prober
from tests.salesmgmt.security.bodies import request_fields, plausible_body

def test_x(personas, process, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    w = build_world(personas, process)
    p = Prober(personas, w)
    from accounts.models import Opportunity
    deal = w.first(Opportunity, "a")
    for path, tmpl in ((f"/api/v1/opportunities/{deal.pk}/", "/api/v1/opportunities/{id}/"), ("/api/v1/webhooks/", "/api/v1/webhooks/")):
        for m in ("PATCH", "POST"):
            f = request_fields(tmpl, m)
            if not f: continue
            body = plausible_body(f, w, "a", personas["se_a"].pk)
            o = p.send("se_a", "api", m, path, body=body)
            print("DBG", m, path, body, o.status, o.content[:400], o.problems)
