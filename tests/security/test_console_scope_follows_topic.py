"""A dead letter's tenant follows the topic it sits in, not what its bytes claim.

The hole: the console scoped a record by its key, ``fd-tenant`` header and payload. A
record in tenant grand's dedicated DLQ whose key, header and payload all said ``acme``
was shown to acme's console user, who could open it and dry-run a redrive of it.

The contract: for a dedicated tenant's topic, the topic names the owner; key, header and
payload must agree with it. On any disagreement a tenant user gets 404 (as for any id out
of scope: neither acme, whom the bytes name, nor grand, whose topic it is, may act on it),
and an operator sees a "tenant mismatch" badge and cannot redrive it unless choosing the
topic's tenant explicitly, which sends it to grand's own topic as grand's. The CLI says the
same: ``dlq list`` flags it, ``dlq show --tenant`` refuses it, ``dlq redrive`` needs
``--tenant-from-topic``. Both tenants' own dead letters stay visible and redrivable.
"""

from __future__ import annotations

import json
from pathlib import Path

from frontdesk import headers as hdr
from frontdesk.dlq import DlqReview
from tests.support import dlq as support
from tests.support.console import Session, console, users_file
from tests.support.kafka import Cluster, unique


def test_console_scope_follows_the_topic(kafka: Cluster, tmp_path: Path) -> None:
    topo = support.apply(kafka, unique("scope"))
    pooled = topo.main_topics("operational")[0]
    grand = topo.main_topic_for("operational", "grand")
    (acme_own,) = support.seed(kafka, f"{pooled}.dlq", [support.letter(pooled, tenant="acme")])
    planted, grand_own = support.seed(
        kafka,
        f"{grand}.dlq",
        [support.letter(grand, tenant="acme"), support.letter(grand, tenant="grand")],
    )
    review = DlqReview(kafka.config, topo)
    users = users_file(tmp_path, ops=None, acme_ops="acme", grand_ops="grand")

    with console(review, users) as base:
        for name, own in (("acme_ops", acme_own), ("grand_ops", grand_own)):
            with Session(base) as tenant:
                tenant.login(name)
                listing = tenant.http.get("/dlq").text
                assert str(own) in listing
                assert str(planted) not in listing
                filtered = tenant.http.get("/dlq?queue=operational&tenant=acme").text
                assert str(planted) not in filtered
                assert tenant.http.get(f"/dlq/{planted}").status_code == 404
                for step in ("confirm", "execute"):
                    refused = tenant.act(step, [str(planted)], "redrive", tenant_from_topic="yes")
                    assert refused.status_code == 404
                    assert tenant.act(step, [str(planted)], "discard").status_code == 404
                assert tenant.http.get(f"/dlq/{own}").status_code == 200

        with Session(base) as ops:
            ops.login("ops")
            page = ops.http.get(f"/dlq/{planted}").text
            assert "tenant mismatch" in page
            assert "topic grand, key acme, header acme, payload acme" in page
            assert "tenant mismatch" in ops.http.get("/dlq").text
            assert "tenant mismatch" not in ops.http.get(f"/dlq/{grand_own}").text
            refused = ops.act("confirm", [str(planted)], "redrive")
            assert refused.status_code == 400
            assert "tenant mismatch" in refused.text
            assert ops.act("execute", [str(planted)], "redrive").status_code == 400
            assert planted not in review.state()
            plan = ops.act("confirm", [str(planted)], "redrive", tenant_from_topic="yes")
            assert plan.status_code == 200, plan.text
            assert 'name="tenant_from_topic" value="yes"' in plan.text
            done = ops.act("execute", [str(planted)], "redrive", tenant_from_topic="yes")
            assert done.status_code == 200, done.text

        # Both tenants' own dead letters are theirs to act on, as before.
        with Session(base) as acme:
            acme.login("acme_ops")
            assert acme.act("execute", [str(acme_own)], "redrive").status_code == 200
    (copy,) = [m for m in kafka.read_all(grand) if hdr.get(m.headers(), hdr.REDRIVEN_FROM)]
    assert hdr.get(copy.headers(), hdr.TENANT) == "grand"
    assert review.state()[acme_own].redriven_to == pooled


def test_cli_flags_and_refuses_a_tenant_mismatch(kafka: Cluster, tmp_path: Path) -> None:
    topo = support.apply(kafka, unique("scope-cli"))
    grand = topo.main_topic_for("operational", "grand")
    planted, grand_own = support.seed(
        kafka,
        f"{grand}.dlq",
        [support.letter(grand, tenant="acme"), support.letter(grand, tenant="grand")],
    )

    def dlq(*args: str) -> tuple[int, str, str]:
        result = support.cli(kafka, topo, tmp_path, *args)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = dlq("list", "--tenant", "acme", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["id"], row["owner"]) == (str(planted), "grand")
    assert row["tenant_mismatch"] == "topic grand, key acme, header acme, payload acme"
    code, out, _ = dlq("list", "--tenant", "grand")
    assert code == 0
    assert f"{planted}\t" in out
    assert "MISMATCH (topic grand, key acme" in out
    assert f"{grand_own}\t" in out

    for tenant in ("acme", "grand"):
        code, _, err = dlq("show", str(planted), "--tenant", tenant)
        assert code == 1
        assert f"is not tenant {tenant}'s alone" in err
    assert dlq("show", str(grand_own), "--tenant", "grand")[0] == 0
    assert dlq("show", str(grand_own), "--tenant", "acme")[0] == 1

    code, _, err = dlq("redrive", str(planted), "-r", "x")
    assert code == 1
    assert "tenant mismatch" in err
    assert "--tenant-from-topic" in err
    code, out, _ = dlq("redrive", str(planted), "-r", "x", "--tenant-from-topic", "--json")
    assert code == 0
    assert json.loads(out)["moves"] == [{"id": str(planted), "to": grand}]
    assert dlq("redrive", str(grand_own), "-r", "x")[0] == 0
