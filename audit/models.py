import hashlib
from json.encoder import encode_basestring_ascii as _quote

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from .exceptions import AuditImmutableError

GENESIS_HASH = "0" * 64


class AppendOrderIndex(models.Index):
    """For a column that rises with the order rows are appended in (an append-only
    table's time): a BRIN index on PostgreSQL, one summary per range of table pages, which
    an append barely touches where a B-tree writes a leaf entry per row; a plain index
    elsewhere."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise AuditImmutableError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail.

    customer_id and invoice_id are plain integers, not foreign keys: the trail must outlive
    whatever it describes, and the audit app sits below the ledger in the dependency order.
    """

    at = models.DateTimeField()  # indexed by audit_at (Meta)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # indexed where set (Meta): most events are the system's
        related_name="+",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    invoice_id = models.BigIntegerField(null=True, blank=True)  # indexed where set (Meta)
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    # Not indexed: the chain itself proves every hash (audit_verify), and a unique index
    # on random hex would cost each append a write at a random place in a large index.
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        # A plain index: db_index=True on a CharField adds a LIKE-only twin on PostgreSQL.
        indexes = [
            AppendOrderIndex(fields=["at"], name="audit_at"),
            models.Index(fields=["action"], name="audit_action"),
            # Where set only: a run appends a million events with neither, and an index
            # entry for each would be paid for on every append and never read.
            *(
                models.Index(
                    fields=[column],
                    name=f"audit_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                )
                for column in ("actor", "invoice_id")
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} by {self.actor_label} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("Audit events cannot be deleted.")

    def compute_hash(self) -> str:
        return chain_hash(
            prev_hash=self.prev_hash,
            at=self.at.isoformat(),
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            action=self.action,
            customer_id=self.customer_id,
            invoice_id=self.invoice_id,
            summary=self.summary,
            data=self.data,
        )


# One encoder for every call: json.dumps(cls=...) builds a new one each time, which cost
# more than the encoding itself at two calls per event.
_CANONICAL = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical_json(value) -> str:
    return _CANONICAL.encode(value)


_PLAIN = {str, int, type(None)}  # what chain_hash writes as JSON itself


def chain_hash(
    *,
    prev_hash,
    at,
    actor_id,
    actor_label,
    action,
    customer_id,
    invoice_id,
    summary,
    data=None,
    data_json: str | None = None,
) -> str:
    """The event's hash. data_json: data already through canonical_json (saves a pass)."""
    if data_json is None:
        data_json = canonical_json(data)
    # The hash covers data as the database hands it back later (Decimals become strings,
    # dates ISO text): that is its canonical JSON, since re-serialising parsed canonical
    # JSON gives the same text. So the text is spliced in as the list's last item, which
    # equals canonical_json([..., json.loads(data_json)]) without the round trip.
    head = [prev_hash, at, actor_id, actor_label, action, customer_id, invoice_id, summary]
    if all(type(value) in _PLAIN for value in head):
        # canonical_json's text of the list, written directly (an append hashes one per
        # event, and a run appends a million).
        head = ",".join(
            [_quote(v) if type(v) is str else "null" if v is None else str(v) for v in head]
        )
        payload = f"[{head},{data_json}]"
    else:
        payload = f"{canonical_json(head)[:-1]},{data_json}]"
    return hashlib.sha256(payload.encode()).hexdigest()
