import threading

import pytest
from django.db import connection, connections

from audit.selectors import audit_chain_verify
from audit.services import audit_record


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_writers_appending_at_the_same_moment_keep_one_unbroken_chain():
    barrier = threading.Barrier(4)
    errors = []

    def writer(n):
        try:
            barrier.wait()
            for i in range(25):
                audit_record(action="test.concurrent", summary=f"writer {n} event {i}")
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    checked, broken = audit_chain_verify()
    assert (checked, broken) == (100, None)
