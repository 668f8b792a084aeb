"""Replay as a dashboard job (Pilot, real broker): from group detail, the group's unread records into
another topic, refused while the group has an active member, then run as a job with progress, MB/s and
ETA, copying exactly the unread range."""

from __future__ import annotations

from collections import deque

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from kafka_sre_tui.config import ClusterConfig, UiSettings
from kafka_sre_tui.localkafka import LocalKafka
from kafka_sre_tui.tui.app import KsreApp
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from kafka_sre_tui.tui.screens.migrate_form import TypeToConfirm
from kafka_sre_tui.tui.screens.replay_form import ReplayForm
from tests.kafka_helpers import consume_and_commit, create_topic, read_all, wait_for

RECORDS, READ = 1500, 300


async def test_replay_job_refuses_an_active_group_then_copies_its_unread_records(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    bs, group, target = kafka.bootstrap_servers, f"{unique}-g", f"{unique}-again"
    await create_topic(bs, unique, 1)
    await create_topic(bs, target, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bs, linger_ms=5)
    await producer.start()
    try:
        for i in range(RECORDS):  # 1.5 MB: about 2.4 s for the unread 1.2 MB at 0.5 MB/s
            await producer.send(unique, b"x" * 1000, key=str(i).encode(), partition=0, headers=[("n", b"%d" % i)])
        await producer.flush()
    finally:
        await producer.stop()
    await consume_and_commit(bs, group, unique, {0: READ})

    app = KsreApp(cluster, UiSettings(refresh_seconds=1))
    told: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (told.append(str(message)), notify(message, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        member = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=group, client_id="still-reading",
                                  enable_auto_commit=False)
        await member.start()
        try:
            await wait_for(lambda: bool(member.assignment()), "the member's assignment")
            app.action_replay(unique, group)
            await pilot.pause()
            assert isinstance(app.screen, ReplayForm)
            await _fill_and_start(pilot, target)
            await wait_for(lambda: any("Replay refused" in t or group in t for t in told), "the refusal")
            refusal = next(t for t in told if group in t)
            assert "active member" in refusal and "still-reading" in refusal and "(classic group" in refusal, refusal
            assert not app.jobs_pane.jobs and (await read_all(bs, target)) == {0: []}
        finally:
            await member.stop()

        app.push_screen(GroupScreen(group, deque(), 1.0))
        await pilot.pause()
        await wait_for(lambda: app.screen.query_one("#group-partitions").row_count == 1, "the group's partition")
        await pilot.press("y")
        assert isinstance(app.screen, ReplayForm)
        assert app.screen.query_one("#y-group", Input).value == group
        await _fill_and_start(pilot, target, rate="0.5")
        await wait_for(lambda: isinstance(app.screen, TypeToConfirm), "the typed confirmation")
        await pilot.press(*target, "enter")
        await wait_for(lambda: len(app.jobs_pane.jobs) == 1, "the replay job")
        [job] = app.jobs_pane.jobs.values()
        await wait_for(lambda: 0.05 < job.fraction < 0.95 and job.mb_per_second > 0 and job.eta_seconds is not None,
                       "progress with MB/s and ETA while it runs")
        await wait_for(lambda: not job.active, "the replay to end")
        assert job.state == "done" and f"{RECORDS - READ:,} records copied" in job.detail, job.detail
    source, copied = (await read_all(bs, unique))[0], (await read_all(bs, target))[0]
    assert [r[1:] for r in copied] == [r[1:] for r in source[READ:]]  # key, value, headers, timestamp


async def _fill_and_start(pilot: Pilot[None], target: str, rate: str = "") -> None:
    screen = pilot.app.screen
    screen.query_one("#y-target", Input).value = target
    screen.query_one("#y-rate-limit", Input).value = rate
    screen.query_one("#y-execute", Checkbox).value = True
    await pilot.pause()
    screen.query_one("#y-target", Input).focus()
    await pilot.press("enter")
