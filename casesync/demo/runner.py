"""Runs the demo. Steps:
1. a fresh run: new topic prefix, a fresh database per region (old demo data dropped);
2. provision the broker as its administrator (``access apply``: a principal per region, topics,
   ACLs), set each region up, then start its service (``casesync run``) as a process of its
   own, connected as the region's own principal (its credentials file, never its password, is
   in the process's environment);
3. traffic: ``casesync simulate`` per region toward its partner, at a steady rate, plus the
   scripted stories (a 补正 round trip, the medical-insurance transfer, a national-list case
   addressed to every region);
4. wait until every outbox is published, every mirror equals its source and every demo region
   mirrors the national case; then, as each region's principal, try to read its partner's
   inbox: the broker must refuse;
5. stop the services and print the summary; exit 0 only when every pair is consistent and every
   probe was refused.
With ``--console`` the ops console watches the four regions from step 2 on, and the summary is
printed while everything keeps running, until Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from casesync.access.credentials import CredentialsFolder
from casesync.access.plan import DEFAULT_PROTECTED
from casesync.access.provisioning import cluster_access, provision_cluster
from casesync.adapters.postgres import drop_database
from casesync.adapters.reachability import kafka_admin
from casesync.adapters.read_probe import ReadProbe, probe_read
from casesync.adapters.topics import TopicNames, delete_topics_with_prefix
from casesync.cli.region import init_region
from casesync.cli.run import service_ready
from casesync.demo import summary
from casesync.demo.errors import DemoFailed
from casesync.demo.scripts import (
    materials_round_trip,
    national_case,
    transfer_out_done,
    transfer_request,
)
from casesync.demo.world import DEMO_PREFIX, REGIONS, TRANSFER_IN, TRANSFER_OUT, DemoRun
from casesync.domain.loading import shipped_catalogue
from casesync.domain.workdays import china_date
from casesync.settings import Settings
from casesync.stopping import interrupt_on_sigterm
from consumers.workflow import task_case_id
from producers.app import build_recorder, record_committed
from producers.changes import CaseChange

BY_CODE = {r.code: r for r in REGIONS}
NATIONAL_SOURCE = "320500"  # 苏州 records the national-list case
NATIONAL_VERSION = 5  # its last version: submitted to delivered


class Demo:
    def __init__(
        self, base: Settings, cases: int, rate: float, timeout: float, console: int | None = None
    ) -> None:
        self.run = DemoRun.new(base)
        self.cases, self.rate, self.timeout = cases, rate, timeout
        self.console_port = console
        self.logs = Path(".run") / "demo" / self.run.run_id
        self.services: dict[str, subprocess.Popen[bytes]] = {}
        self.tty = sys.stdout.isatty()
        self.secured = self.run.settings.kafka.security.secured
        self.credentials = CredentialsFolder(self.run.settings.secrets_dir)
        self.probes: dict[str, ReadProbe] = {}

    def url(self, region: str) -> str:
        return self.run.settings.region_database_url(region)

    def execute(self) -> int:
        started = time.monotonic()
        interrupt_on_sigterm()
        try:
            self._fresh()
            self._start_services()
            self._start_console()
            transfer = self._traffic()
            self._converge(transfer)
            self._probe()
            if self.console_port is not None:
                return self._report_and_watch(transfer, time.monotonic() - started)
        finally:
            self._stop_services()
        return self._report(transfer, time.monotonic() - started)

    # 1.
    def _fresh(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self._say(f"demo run {self.run.run_id}: topics {self.run.settings.topic_prefix}*, "
                  f"logs in {self.logs}")  # fmt: skip
        delete_topics_with_prefix(self.run.settings.kafka, DEMO_PREFIX)
        if self.secured:  # earlier runs' ACLs name topics just deleted
            with kafka_admin(self.run.settings.kafka) as admin:
                cluster_access(admin, self.run.settings).revoke_under(
                    DEMO_PREFIX, DEFAULT_PROTECTED
                )
        for region in REGIONS:
            drop_database(self.url(region.code))

    # 2.
    def _provision(self) -> None:
        """``access apply`` for this run's prefix, as the administrator; a demo region whose
        user exists but whose credentials file is gone gets a new password."""
        settings = self.run.settings
        done = provision_cluster(settings, shipped_catalogue(), china_date(datetime.now(UTC)))
        if not self.secured or done.applied is None:
            self._say("the broker is plaintext: every region connects alike, nothing is refused")
            return
        lost = [r.code for r in REGIONS if not self.credentials.path_for(r.code).exists()]
        if lost:
            with kafka_admin(settings.kafka) as admin:
                cluster_access(admin, settings).issue_credentials(lost)
        self._say(
            f"access applied as {settings.kafka.security.username}: "
            f"{len(done.applied.principals_created)} principal(s) created, "
            f"{len(done.topics_created)} topic(s), {len(done.applied.acls_granted)} ACL(s); "
            f"each region runs as its own principal ({self.credentials.folder}/<code>.properties)"
        )

    def _region_env(self, region: str) -> dict[str, str]:
        if not self.secured:
            return self.run.environment()
        return self.run.region_environment(self.credentials.path_for(region))

    def _start_services(self) -> None:
        self._provision()
        for region in REGIONS:
            init_region(self.run.settings, region.code)
        for n, region in enumerate(REGIONS):
            self.services[region.code] = self._spawn(
                f"{region.code}-service",
                "run", "--region", region.code, "--metrics-port", str(19500 + n),
                env=self._region_env(region.code),
            )  # fmt: skip
        # Traffic waits for them: events sent while groups form would wait too, and count.
        logs = [self.logs / f"{region.code}-service.log" for region in REGIONS]
        self._wait(
            lambda: all(service_ready(log) for log in logs) or None,
            "the region services to lead their regions and hold their partitions",
        )  # fmt: skip
        self._say("4 region services ready (metrics on :19500-19503)")

    # 3.
    def _traffic(self) -> str:
        catalogue, today = shipped_catalogue(), china_date(datetime.now(UTC))
        simulators = [
            self._spawn(f"{r.code}-simulate", "simulate", "--region", r.code,
                        "--cases", str(self.cases), "--rate", str(self.rate),
                        "--partner", r.partner, "--seed", str(n), env=self._region_env(r.code))
            for n, r in enumerate(REGIONS)
        ]  # fmt: skip
        transfer = f"{TRANSFER_IN}-MI-{self.run.run_id}"
        request, partner_step = transfer_request(
            catalogue, TRANSFER_IN, TRANSFER_OUT, transfer, today
        )
        self._record(TRANSFER_IN, request)
        self._say("如东 asked 桐乡 for the transfer-out (联系函)")
        story = f"320500-BZ-{self.run.run_id}"
        for moment in materials_round_trip(catalogue, "320500", "640100", story, today):
            self._record("320500", moment)
            time.sleep(0.3)
        self._say("苏州 ran a 补正 round trip for 银川")
        self._record(
            NATIONAL_SOURCE, national_case(catalogue, NATIONAL_SOURCE, self._national(), today)
        )
        self._say("苏州 handled a national-list case: addressed to every region's inbox")
        task = task_case_id(transfer, partner_step)
        opened = self._wait(lambda: summary.case_state(self.url(TRANSFER_OUT), task),
                            "桐乡 to open its transfer-out task")  # fmt: skip
        self._record(TRANSFER_OUT, transfer_out_done(task, opened[1], TRANSFER_IN))
        self._say("桐乡's operator completed the transfer-out (变更信息表 sent)")
        for simulator in simulators:
            if simulator.wait(timeout=self.timeout) != 0:
                raise DemoFailed(f"a traffic simulator failed; see {self.logs}")
        return transfer

    def _national(self) -> str:
        return f"{NATIONAL_SOURCE}-QG-{self.run.run_id}"

    def _national_mirrors(self) -> list[str]:
        """The demo regions whose mirror holds the national case at its last version."""
        return [
            r.code
            for r in REGIONS
            if r.code != NATIONAL_SOURCE
            and summary.mirrored_version(self.url(r.code), NATIONAL_SOURCE, self._national())
            == NATIONAL_VERSION
        ]

    # 4.
    def _converge(self, transfer: str) -> None:
        def settled() -> bool:
            if summary.case_state(self.url(TRANSFER_IN), transfer) != ("DELIVERED", 6):
                return False
            if len(self._national_mirrors()) < len(REGIONS) - 1:
                return False
            return all(
                summary.unpublished(self.url(r.code)) == 0
                and summary.owned_digest(self.url(r.code), r.partner)
                == summary.mirror_digest(self.url(r.partner), r.code)
                for r in REGIONS
            )

        self._wait(lambda: settled() or None, "every mirror to equal its source")

    def _probe(self) -> None:
        """Each region's principal tries to read its partner's inbox (which holds records)."""
        if not self.secured:
            return
        names = TopicNames(self.run.settings.topic_prefix)
        for r in REGIONS:
            kafka = self.run.region_settings(self.credentials.path_for(r.code)).kafka
            self.probes[r.code] = probe_read(kafka, names.inbox(r.partner))

    # 5.
    def _report(self, transfer: str, elapsed: float) -> int:
        figures = [summary.region_figures(self.url(r.code), r.code, r.name) for r in REGIONS]
        print()
        print(summary.table(figures))
        steps = summary.case_steps(self.url(TRANSFER_IN), transfer)
        print(f"\nmedical-insurance transfer {transfer} (如东 ⇄ 桐乡):")
        for event_type, at in steps:
            print(f"  {at.astimezone(UTC):%H:%M:%S.%f}"[:-3] + f"  {event_type}")
        if steps:
            took = (steps[-1][1] - steps[0][1]).total_seconds()
            print(f"  {len(steps)} steps, {took:.2f} s from application to delivery")
        reached = self._national_mirrors()
        consistent = len(reached) == len(REGIONS) - 1
        print(
            f"\nnational-list case {self._national()} from 苏州: mirrored by "
            f"{len(reached)} of {len(REGIONS) - 1} demo regions ({', '.join(reached)})"
        )
        print("\nconsistency (source's shared cases vs partner's mirror):")
        for r in REGIONS:
            source = summary.owned_digest(self.url(r.code), r.partner)
            mirror = summary.mirror_digest(self.url(r.partner), r.code)
            same = source == mirror
            consistent &= same
            verdict = "== OK" if same else "!= DIFFERENT"
            print(f"  {r.code} → {r.partner}: {source[1]:>5} cases  "
                  f"{source[0][:16]}… {verdict} {mirror[0][:16]}…")  # fmt: skip
        refused = self._report_probes()
        print(f"\nverdict: {'CONSISTENT' if consistent else 'INCONSISTENT'}"
              f" (demo took {elapsed:.0f} s)")  # fmt: skip
        return 0 if consistent and refused else 1

    def _report_probes(self) -> bool:
        """Print one line per probe; whether every one was refused."""
        if not self.probes:
            return True
        print("\naccess (each region's principal reads its partner's inbox):")
        for code, probe in self.probes.items():
            outcome = (
                f"refused ({probe.refusal})"
                if probe.refused
                else f"NOT REFUSED ({probe.records} record(s) read)"
            )
            print(f"  probe: {code} reading {probe.topic} -> {outcome}")
        return all(probe.refused for probe in self.probes.values())

    def _start_console(self) -> None:
        if self.console_port is None:
            return
        watched = [arg for region in REGIONS for arg in ("--region", region.code)]
        self.services["console"] = self._spawn(
            "console",
            "ops",
            "console",
            "--port",
            str(self.console_port),
            *watched,
            env=self.run.environment(),
        )
        self._say(f"console on http://127.0.0.1:{self.console_port}/")

    def _report_and_watch(self, transfer: str, elapsed: float) -> int:
        """The summary, then the regions and the console keep running until Ctrl-C."""
        code = self._report(transfer, elapsed)
        self._say(f"regions still running; console on http://127.0.0.1:{self.console_port}/"
                  " (Ctrl-C stops everything)")  # fmt: skip
        try:
            while all(process.poll() is None for process in self.services.values()):
                time.sleep(1)
            self._say(f"a region service or the console exited; see {self.logs}")
        except KeyboardInterrupt:
            pass
        return code

    def _record(self, region: str, changes: list[CaseChange]) -> None:
        record_committed(build_recorder(region), self.url(region), changes, "casesync-demo")

    def _spawn(self, name: str, *args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "casesync", "--log-json", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def _wait(self, probe, what: str):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for code, process in self.services.items():
                if process.poll() is not None:
                    raise DemoFailed(f"the service of {code} exited; see {self.logs}")
            found = probe()
            if found is not None:
                return found
            time.sleep(0.5)
        raise DemoFailed(f"timed out waiting for {what}; see {self.logs}")

    def _stop_services(self) -> None:
        for process in self.services.values():
            if process.poll() is None:
                process.terminate()
        for process in self.services.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _say(self, message: str) -> None:
        print(f"[demo] {message}", flush=True)
