"""The load test's people: collectors working their queue and customers, managers reading the
dashboard. Run by `python manage.py bench load`, which signs them in and writes the cast file
(LOAD_CAST: a JSON list of {"role", "session", "csrf", "collector", "customers"}).

FastHttpUser (geventhttpclient) keeps the load generator's own CPU low: on two cores it shares
the machine with the server, the engine run and the import."""

import itertools
import json
import os
import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["LOAD_CAST"]) as file:
    CAST = json.load(file)
COLLECTORS = itertools.cycle([p for p in CAST if p["role"] == "collector"])
MANAGERS = itertools.cycle([p for p in CAST if p["role"] == "manager"])
QUEUE_BUCKETS = ("1_30", "31_60", "61_90", "90_plus")
AGING_BUCKETS = ("1-30", "31-60", "61-90", "90%2B")  # 90+, as it goes in a URL


class Person(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)  # reading the page before the next click

    def on_start(self):
        self.person = next(self.people)
        self.cookie = f"sessionid={self.person['session']}; csrftoken={self.person['csrf']}"

    def get(self, url, name):
        with self.client.get(
            url, headers={"Cookie": self.cookie}, name=name, catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")

    def post(self, url, data, name):
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.person["csrf"], "HX-Request": "true"}
        with self.client.post(
            url, data=data, headers=headers, name=name, catch_response=True
        ) as answer:
            if answer.status_code not in (200, 204):
                answer.failure(f"{answer.status_code}")


class Collector(Person):
    weight = 4
    people = COLLECTORS

    @task(5)
    def queue(self):
        self.get("/queue/", "queue")

    @task(2)
    def queue_filtered(self):
        bucket = random.choice(QUEUE_BUCKETS)
        self.get(f"/queue/?collector={self.person['collector']}&bucket={bucket}", "queue filtered")

    @task(1)
    def queue_search(self):
        self.get("/queue/?q=Ltd&flag=waiting", "queue search")

    @task(4)
    def customer(self):
        self.get(f"/customers/{random.choice(self.person['customers'])}/", "customer page")

    @task(1)
    def note(self):
        pk = random.choice(self.person["customers"])
        self.post(
            f"/customers/{pk}/note/", {"text": "Called: promised to look into it."}, "add note"
        )

    @task(1)
    def calls(self):
        self.get(f"/calls/?collector={self.person['collector']}", "calls")


class Manager(Person):
    weight = 1
    people = MANAGERS

    @task(3)
    def dashboard(self):
        self.get("/dashboard/", "dashboard")

    @task(1)
    def aging(self):
        self.get(f"/dashboard/aging/?bucket={random.choice(AGING_BUCKETS)}", "aging drill-down")

    @task(2)
    def queue(self):
        self.get("/queue/", "queue")
