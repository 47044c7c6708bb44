import hashlib
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.exceptions import AuditImmutableError
from audit.models import GENESIS_HASH, AuditEvent, canonical_json, chain_hash
from audit.selectors import audit_chain_verify
from audit.services import Event, audit_record, audit_record_many

pytestmark = pytest.mark.django_db


def record(n):
    return [
        audit_record(action="test.event", summary=f"event {i}", customer_id=i, data={"i": i})
        for i in range(n)
    ]


def raw_sql(sql, params):
    """Tamper as an attacker with database access would: straight SQL, with the
    PostgreSQL append-only trigger switched off for this session only."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def test_events_are_chained_each_to_the_one_before():
    first, second = record(2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash


def test_an_untouched_trail_verifies(capsys):
    record(5)
    call_command("audit_verify")
    assert "5 events verified" in capsys.readouterr().out


def test_audit_verify_names_an_event_whose_contents_were_altered():
    events = record(5)
    raw_sql("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["edited", events[2].pk])
    with pytest.raises(CommandError, match=f"event #{events[2].pk}: its contents were altered"):
        call_command("audit_verify")


def test_audit_verify_notices_a_deleted_event_at_the_next_one():
    events = record(5)
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    checked, broken = audit_chain_verify()
    assert (checked, broken.event_id) == (1, events[2].pk)
    assert "deleted or altered" in broken.reason


def test_audit_verify_notices_a_rehashed_event_that_breaks_the_next_link():
    events = record(3)
    forged = events[1]
    forged_hash = "f" * 64
    raw_sql("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [forged_hash, forged.pk])
    _, broken = audit_chain_verify()
    assert broken.event_id == forged.pk


def test_the_model_refuses_to_change_an_event():
    (event,) = record(1)
    event.summary = "rewritten"
    with pytest.raises(AuditImmutableError):
        event.save()


def test_the_model_refuses_to_delete_an_event():
    (event,) = record(1)
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.update(summary="x")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_itself_refuses_raw_updates_and_deletes():
    (event,) = record(1)
    for sql in (
        "UPDATE audit_auditevent SET summary = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).summary == event.summary


def test_an_event_survives_a_round_trip_through_the_database_with_its_hash():
    audit_record(action="test.money", data={"amount": Decimal("12.30")})
    event = AuditEvent.objects.get()
    assert event.compute_hash() == event.hash


def test_a_batch_appended_in_one_go_verifies_link_by_link():
    record(2)
    audit_record_many(
        events=[
            Event(action="test.batch", summary=f"batch {i}", data={"amount": Decimal("1.10")})
            for i in range(300)
        ]
    )
    record(1)

    assert audit_chain_verify() == (303, None)


@pytest.mark.parametrize(
    "values",
    [
        ("a" * 64, "2026-03-16T10:00:00+00:00", None, "system", "x.y", None, None, ""),
        ("0" * 64, "2026-03-16T10:00:00.123456+00:00", 7, 'Zoë "Z" \\', "x", 12, 9, "€ \t\n"),
    ],
)
def test_an_events_hash_is_that_of_its_canonical_json(values):
    """chain_hash writes the list's JSON itself: it must be canonical_json's, byte for byte."""
    data = {"amount": "12.30", "note": 'naïve "quote"', "ids": [1, 2]}
    prev, at, actor_id, label, action, customer_id, invoice_id, summary = values

    digest = chain_hash(
        prev_hash=prev,
        at=at,
        actor_id=actor_id,
        actor_label=label,
        action=action,
        customer_id=customer_id,
        invoice_id=invoice_id,
        summary=summary,
        data=data,
    )

    expected = hashlib.sha256(canonical_json([*values, data]).encode()).hexdigest()
    assert digest == expected
