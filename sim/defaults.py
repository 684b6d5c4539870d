"""Every default number of the model, with its unit in the name and its source.

Sources are product facts cited as "vb365 fact N"; docs/sources.md lists each with its public
source URLs. Values marked
INFERRED are reasoned assumptions that no public source states; each is a scenario parameter,
never a constant buried in the model.

Public sources of the product facts cited here (docs/sources.md has them all):
vb365 fact 2: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html
vb365 fact 10: https://bp.veeam.com/vb365/guide/buildconfig/proxy
vb365 fact 12: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
vb365 fact 13: https://bp.veeam.com/vb365/guide/design/sizing/proxy.html
vb365 fact 14: https://bp.veeam.com/vb365/guide/design/sizing/proxy.html
vb365 fact 15: https://bp.veeam.com/vb365/guide/design/sizing
vb365 fact 16: https://bp.veeam.com/vb365/guide/design/sizing
vb365 fact 17: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html
vb365 fact 21: https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html
vb365 fact 22: https://community.veeam.com/blogs-and-podcasts-57
vb365 fact 24: https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange
vb365 fact 25: https://learn.microsoft.com/graph/throttling-limits
vb365 fact 26: https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online
vb365 fact 27: https://bp.veeam.com/vb365/guide/operate/orgconfig
vb365 fact 30: https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html
vb365 fact 31: https://repost.aws/knowledge-center/http-5xx-errors-s3
vb365 fact 32: https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account
vb365 fact 33: https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_copy_works.html
vb365 fact 35: https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html
vb365 fact 42: https://learn.microsoft.com/graph/api/mailbox-exportitems
vb365 fact 23: https://helpcenter.veeam.com/docs/vbo365/guide/vbo_managing_organizations.html
vb365 fact 40: https://www.veeam.com/kb4820
vb365 fact 41: https://www.veeam.com/kb4820
vb365 fact 43: https://learn.microsoft.com/graph/throttling-limits
"""

from __future__ import annotations

from typing import Final

MB: Final = 1_000_000.0
GB: Final = 1_000_000_000.0
HOUR_S: Final = 3_600.0
DAY_S: Final = 86_400.0
"""Units every layer shares (decimal bytes, seconds), defined here once."""

WORKLOADS: Final = ("exchange", "onedrive", "sharepoint", "teams")
"""Microsoft 365 workloads; the object types below map onto them."""

OBJECT_TYPES: Final = (
    "mailbox",
    "archive_mailbox",
    "shared_mailbox",
    "onedrive",
    "site",
    "team",
)
"""Object types generated for a tenant (vb365 fact 15)."""

WORKLOAD_OF_TYPE: Final = {
    "mailbox": "exchange",
    "archive_mailbox": "exchange",
    "shared_mailbox": "exchange",
    "onedrive": "onedrive",
    "site": "sharepoint",
    "team": "teams",
}

LICENCE_WEIGHT_OF_TYPE: Final = {t: (2 if t == "team" else 1) for t in OBJECT_TYPES}
"""A team counts as 2 objects for licensing and sizing (vb365 fact 15)."""

OBJECTS_PER_USER: Final = {
    "mailbox": 1.0,
    "archive_mailbox": 0.5,
    "shared_mailbox": 0.075,
    "onedrive": 1.0,
    "site": 0.015,
    "team": 0.0,
}
"""Objects per licensed user: VCSP blueprint, 1,000 users = 1,000 mailboxes, 500 archives,
75 shared, 1,000 OneDrives, 15 sites = 2,590 objects (vb365 fact 15). Teams are not in that
blueprint; scenarios add them explicitly."""

MEAN_SIZE_BYTES_OF_TYPE: Final = {
    "mailbox": 3.0 * GB,
    "archive_mailbox": 2.0 * GB,
    "shared_mailbox": 1.0 * GB,
    "onedrive": 2.5 * GB,
    "site": 10.0 * GB,
    "team": 1.0 * GB,
}
"""Mean object size. INFERRED so that a user carries about 7 GB, inside the 5-10 GB per user
of the VCSP blueprint (vb365 fact 15)."""

SIZE_SIGMA_OF_TYPE: Final = {
    "mailbox": 1.0,
    "archive_mailbox": 1.2,
    "shared_mailbox": 1.2,
    "onedrive": 1.4,
    "site": 1.6,
    "team": 1.2,
}
"""Lognormal sigma of object sizes (heavy tail). INFERRED: no published distribution; a 250,000
document site is far larger than a 50 MB one (vb365 fact 16)."""

MEAN_ITEM_BYTES_OF_TYPE: Final = {
    "mailbox": 75_000.0,
    "archive_mailbox": 75_000.0,
    "shared_mailbox": 75_000.0,
    "onedrive": 1.5 * MB,
    "site": 1.5 * MB,
    "team": 500_000.0,
}
"""Mean item size. Exchange item ~75 KB (vb365 'Throughput per thread', INFERRED); files
INFERRED; a team mixes small channel messages with the files of its site, INFERRED 500 KB."""

DAILY_CHANGE_RATE_OF_TYPE: Final = {
    "mailbox": 0.005,
    "archive_mailbox": 0.002,
    "shared_mailbox": 0.005,
    "onedrive": 0.005,
    "site": 0.005,
    "team": 0.005,
}
"""Fraction of an object's bytes changed per day: Exchange 0.5 % [0.2-1 %] (vb365 fact 21);
SharePoint/OneDrive 0.5 % INFERRED (vb365 parameter table)."""

THREAD_BPS_OF_WORKLOAD: Final = {
    "exchange": 1.5 * MB,
    "onedrive": 4.0 * MB,
    "sharepoint": 4.0 * MB,
    "teams": 0.5 * MB,
}
"""Per-thread transfer ceiling. INFERRED, not sourced (vb365 'Throughput per thread':
Exchange 0.5-2 MB/s, OneDrive/SharePoint 1-5 MB/s, Teams slow). Calibrate."""

ITEMS_PER_S_OF_WORKLOAD: Final = {
    "exchange": 20.0,
    "onedrive": 10.0,
    "sharepoint": 10.0,
    "teams": 20.0,
}
"""Per-thread item ceiling. INFERRED (vb365: Exchange 5-30 items/s per thread)."""

OBJECT_OVERHEAD_S_OF_WORKLOAD: Final = {
    "exchange": 2.0,
    "onedrive": 3.0,
    "sharepoint": 5.0,
    "teams": 5.0,
}
"""Fixed per-object time on its thread (open, enumerate folders, commit). INFERRED."""

PROXY_THREADS: Final = 64
"""Default thread slots per proxy; ThreadsNumber default 64, range 0-256 (vb365 fact 14)."""

PROXY_CORES: Final = 8
PROXY_RAM_BYTES: Final = 32 * 1024**3
"""Proxy 8 cores / 32 GB: the BP sizing example (vb365 fact 13)."""

PROXY_BPS_PER_CORE: Final = 12.5 * MB
"""Processing capacity per core on Windows. INFERRED: 8 cores ~ 100 MB/s ~ 360 GB/h, "a few
hundred GB/h at most" per proxy (vb365 'Throughput per thread')."""

OS_EFFICIENCY: Final = {"windows": 1.0, "linux": 1.2}
"""Linux proxies are "up to 20 % more resource-efficient" (vb365 fact 10)."""

CPU_PER_OBJECT_S_OF_WORKLOAD: Final = {
    "exchange": 7.0,
    "onedrive": 7.0,
    "sharepoint": 7.0,
    "teams": 7.0,
}
"""CPU seconds (one Windows core) a proxy spends per object in scope, changed or not: connect,
enumerate folders or lists, compare change state, commit the object's metadata. INFERRED: no
public per-object figure; calibrated so that one 8-core / 32 GB Windows proxy finishes 20,000-
40,000 objects of an incremental night within 8 hours, the sizing rule "8 cores and 32 GB RAM
should be able to handle 20,000 objects" (vb365 fact 13) with the 50-75 % design margin
(vb365 fact 16). tests/test_proxy_resources.py checks the band."""

PROXY_RAM_BASE_BYTES: Final = 4 * 1024**3
PROXY_RAM_PER_THREAD_BYTES: Final = 0.4 * 1024**3
"""Memory a proxy needs besides its threads (OS, proxy service) and per active thread. A proxy
runs at most (ram - base) / per-thread threads, and never fewer than one. INFERRED: no public
figure; chosen so that the BP pairing of 8 cores and 32 GB (vb365 fact 13) runs the default 64
threads (vb365 fact 14) with room to spare, while the 16 GB minimum (vb365 fact 12) runs 30."""

CHANGE_PROBABILITY_OF_TYPE: Final = {
    "mailbox": 0.9,
    "archive_mailbox": 0.2,
    "shared_mailbox": 0.7,
    "onedrive": 0.3,
    "site": 0.5,
    "team": 0.6,
}
"""Probability that an object changes at all on a given day. INFERRED (no public figure):
most mailboxes receive mail every day, archives change only when retention moves items, most
OneDrives are untouched on a given day. The expected changed bytes stay the daily change rate
(vb365 fact 21): an object that changed carries rate / probability of its bytes."""

RESOLVE_CPU_PER_OBJECT_S: Final = 0.005
METADATA_CPU_PER_OBJECT_S: Final = 0.01
"""CPU seconds (one Windows core) a role holder spends per object resolving a session's objects
(the pool's Scheduler) and synchronising their metadata (its Orchestrator); on a standalone proxy,
the proxy itself. The work holds one of the holder's cores (first come first served with the
objects' scans), so the holder's own objects wait meanwhile. INFERRED: the roles do this work
(vb365 fact 2) but no public figure gives its cost or which role does which part; 5 ms and 10 ms
per object are a guess an order of magnitude below the per-object scan (CPU_PER_OBJECT_S), since
resolving and synchronising touch an object's list entry and metadata, not its content."""

BLOB_BYTES_OF_WORKLOAD: Final = {
    "exchange": 5 * MB,
    "onedrive": 8 * MB,
    "sharepoint": 8 * MB,
    "teams": 8 * MB,
}
"""Object-storage blob size before compression: 5 MB Exchange, 8 MB OneDrive/SharePoint
(vb365 fact 30). Teams data lands in Exchange and SharePoint; 8 MB INFERRED."""

BACKUP_COPY_BLOB_BYTES: Final = 256 * MB
"""Backup copies are repacked into 256 MB blobs (vb365 facts 30, 33)."""

COMPRESSION_OF_WORKLOAD: Final = {
    "exchange": 0.55,
    "onedrive": 0.8,
    "sharepoint": 0.8,
    "teams": 0.6,
}
"""Stored bytes / source bytes: 0.5-0.6 Exchange, 0.7-0.9 SharePoint/OneDrive (vb365 fact 30).
Teams INFERRED between the two."""

METADATA_OBJECTS_PER_BLOB: Final = 1.0
"""Metadata objects (<=100 KB) are "up to 50 %" of all objects: one per data blob
(vb365 fact 30)."""

S3_PUT_PER_S: Final = 3500.0
S3_GET_PER_S: Final = 5500.0
"""Amazon S3 per-prefix request rates (vb365 fact 31)."""

AZURE_REQUESTS_PER_S: Final = 20_000.0
AZURE_INGRESS_BPS: Final = 25e9 / 8
"""Azure standard account: 20,000 req/s, 25 Gbps ingress (vb365 fact 32)."""

REPOSITORY_WRITE_BPS: Final = 10e9 / 8
"""Default repository write bandwidth when a scenario gives none. INFERRED: a 10 Gbps link."""

SP_RU_PER_MIN_BY_LICENCES: Final = (
    (1_000, 1_200.0),
    (5_000, 2_400.0),
    (15_000, 3_600.0),
    (50_000, 4_800.0),
    (None, 6_000.0),
)
"""SharePoint/OneDrive app resource units per minute by licence count (upper bound exclusive;
vb365 fact 26)."""

RU_PER_FILE_DOWNLOAD: Final = 1.0
"""A file download costs 1 RU (vb365 fact 26)."""

EXCHANGE_TENANT_BPS: Final = 400 * GB / 3600
"""Tenant-wide egress cap: 400 GB/h (vb365 fact 22, secondary and unverified; optional)."""

RESOLVE_BASE_S: Final = 30.0
RESOLVE_PER_OBJECT_S: Final = 0.01
"""Resolving objects into a list at session start. INFERRED."""

DB_IOPS: Final = 5_000.0
"""I/O operations per second of the PostgreSQL configuration database: "SSD with at least 5,000
IOPS" (vb365 fact 17, the system requirements' minimum; a planner sets the real disk's)."""

DB_CONNECTIONS: Final = 1_000
"""Connections the configuration database accepts: max_connections = 1000, the setting
Set-VBOPSQLDatabaseServerLimits writes (vb365 fact 17)."""

METADATA_IOS_PER_OBJECT: Final = 10.0
"""Database I/O operations a session's metadata synchronisation costs per processed object.
INFERRED: no public figure; 10 makes one session alone on a 5,000-IOPS database sync 500 objects
per second (2 ms per object, the phase's duration before the database was modelled)."""

RESTORE_POINT_S: Final = 30.0
"""Restore point creation at session end. INFERRED."""

ROLE_FAILOVER_S: Final = 30.0
"""Role handover delay when a holder leaves (vb365: unknown, use 5-60 s)."""

DRAIN_TIMEOUT_S: Final = 600.0
"""How long a member entering maintenance in 'drain' mode lets its running objects finish
(MaintenanceModeState Enabling) before it hands off the rest. INFERRED: the product says
maintenance disables the proxy service and re-assigns execution to another member (sources in
docs/model.md, "Pool lifecycle") but publishes no Enabling duration; 10 min is a guess
(lifecycle.drain_timeout)."""

RETRY_ATTEMPTS: Final = 3
RETRY_WAIT_S: Final = 600.0
"""Retries of failed objects: 3 attempts, 10 min apart (vb365 fact 35)."""

RETRY_AFTER_S: Final = 20.0
"""Retry-After of a Microsoft 365 429 answer under request-level throttling: observed values are
5-60 s, example headers show 9-31 s (vb365 section 6, fact 26); 20 s is the middle of the
examples. INFERRED as a single value."""

RU_PER_REJECTED_REQUEST: Final = 1.0
"""Throttled requests still count against the budget (vb365 fact 26); a rejected request is
charged as the cheapest call, 1 RU (a download or single item)."""

REQUEST_BUDGET_BURST_S: Final = 60.0
"""The request budget's bucket holds one minute's budget: the limits are "per minute"
(vb365 fact 26). INFERRED: Microsoft does not publish whether the window slides."""

S3_SLOW_DOWN_BACKOFF_S: Final = 1.0
"""Wait before retrying a request answered 503 Slow Down. INFERRED (SDKs back off exponentially
from ~0.1 s; no public source gives a figure for this)."""

S3_REJECTED_REQUEST_COST: Final = 0.0
"""A request answered 503 Slow Down is not charged against the prefix's rate: no public source
says whether it is (unlike Microsoft 365's 429, fact 26). INFERRED."""

S3_REPARTITION_S: Final = 45 * 60.0
"""Amazon S3 adds prefix partitions under sustained load; re-partitioning takes 30-60 min
(vb365 fact 31, an AWS knowledge-centre comment)."""

S3_MAX_PARTITIONS: Final = 16
"""Most prefix partitions S3 is assumed to split a repository's prefix into. INFERRED."""

RU_PER_WRITE: Final = 2.0
"""A write (restore) costs 2 RU (vb365 fact 26)."""

SP_RU_PER_DAY_BY_LICENCES: Final = (
    (1_000, 1_200_000.0),
    (5_000, 2_400_000.0),
    (15_000, 3_600_000.0),
    (50_000, 4_800_000.0),
    (None, 6_000_000.0),
)
"""SharePoint/OneDrive app resource units per day by licence count (vb365 fact 26)."""

TEAMS_TENANT_REQUESTS_PER_S: Final = 200.0
"""Teams getAllMessages: 200 requests/s per app per tenant (vb365 fact 25)."""

TEAMS_PER_TEAM_REQUESTS_PER_S: Final = 4.0
"""At most 4 requests/s per app per team or channel (vb365 fact 25): one message per request."""

MAILBOX_REQUESTS_PER_S: Final = 10_000 / 600
"""Graph/Outlook: 10,000 requests per 10 min per app per mailbox (vb365 fact 25): one item per
request, so at most ~16.7 items/s on one mailbox."""

MAILBOX_UPLOAD_BPS: Final = 150 * MB / 300
"""Graph/Outlook: 150 MB upload per 5 min per mailbox (vb365 fact 25): restores into a mailbox
run at most 0.5 MB/s."""

RESTORE_THREAD_BPS_OF_WORKLOAD: Final = {
    "exchange": MAILBOX_UPLOAD_BPS,
    "onedrive": 2.0 * MB,
    "sharepoint": 2.0 * MB,
    "teams": 0.25 * MB,
}
"""Per-thread restore ceiling: Exchange from the upload limit; others INFERRED (writes are
slower than reads)."""

COPY_THREAD_BPS: Final = 50 * MB
"""Per-thread ceiling of a backup-copy transfer between object stores. INFERRED."""

GROWTH_SIZE_FRACTION: Final = 0.2
"""New objects start at this fraction of their type's mean size. INFERRED (new mailboxes and
OneDrives are small)."""

HORIZON_MARGIN_DAYS: Final = 7
"""Safety margin after the simulated days: a run stops at (days + 7) days even if sessions are
still running, and reports them unfinished (the simulation horizon; INFERRED: long enough for the
slowest shipped scenario's last session to end)."""


# -- Exchange through EWS and through Microsoft Graph ------------------------------------------
EXCHANGE_API: Final = "ews"
"""VB365 8.x backs up Exchange Online through EWS (vb365 fact 23); Graph's mailbox export API is
the successor (facts 40-43, https://www.veeam.com/kb4820)."""

EWS_MAX_CONCURRENCY: Final = 27
"""EWSMaxConcurrency: 27 concurrent connections per account, the Exchange Online default
(vb365 fact 24)."""

EWS_ACCOUNTS: Final = 3
"""Backup accounts (or applications) whose EWS budgets a tenant's Exchange backup spreads over;
each has its own concurrency (27 connections) and burst/recharge budget. INFERRED and
calibrated with ``EWS_SERVER_MS_PER_REQUEST``: the earlier best practice added 8 accounts per
proxy in steps of 8, the VCSP one "up to 5" on the initial full, and v8 deprecated adding more
(vb365 fact 27); 3 makes an incremental night of scenarios/enterprise-20k.yaml (81
connections; about half the objects unchanged by the change probability) throttle about
1.2 % of all its requests, Veeam's log example showing ~1.2-1.4 % (fact 27). (With every
object changed, the same band took 12 accounts.)"""

EWS_MAX_BURST_MS: Final = 300_000.0
EWS_RECHARGE_MS_PER_H: Final = 900_000.0
EWS_CUTOFF_BALANCE_MS: Final = 3_000_000.0
"""EwsMaxBurst, EwsRechargeRate (per hour) and EwsCutoffBalance, in milliseconds of server time:
Microsoft's documented on-premises defaults of the default throttling policy (the parameters of
vb365 fact 24). INFERRED for Exchange Online, whose values are not published."""

EWS_SERVER_MS_PER_REQUEST: Final = 5.7
"""Server time one batched EWS request charges to the budget. INFERRED (not published) and
calibrated with ``EWS_ACCOUNTS``: 5.7 ms makes an incremental night of
scenarios/enterprise-20k.yaml throttle 1.2 % of its requests, Veeam's log example showing
~1.2-1.4 % (vb365 fact 27); the share is steep in it (5.5 ms 0.5 %, 6.0 ms 2.9 %). One
account's recharge (250 ms/s) then sustains about 44 requests/s."""

EWS_ITEMS_PER_REQUEST: Final = 10
"""Items per batched GetItem request. INFERRED: EWS batches many items per request (a batch may
run at most one minute, vb365 fact 24); Veeam does not publish its batch size."""

EWS_BACKOFF_S: Final = 30.0
"""Back-off hint of ErrorServerBusy (BackOffMilliseconds). INFERRED: Microsoft publishes the
field, not typical values; 30 s sits in the 5-60 s range seen for Microsoft 365 429 answers."""

GRAPH_ITEMS_PER_REQUEST: Final = 20
"""exportItems exports at most 20 items per request (vb365 fact 42)."""

GRAPH_APP_REQUESTS_PER_10S: Final = 130_000.0
"""Microsoft Graph global limit: 130,000 requests per 10 s per app across all tenants (vb365
fact 25); poolsim applies it per tenant (one app registration per organisation, fact 27)."""

GRAPH_MAILBOX_CONCURRENCY: Final = 4
"""Graph/Outlook: at most 4 concurrent requests per app per mailbox (vb365 fact 25). One thread
processes one mailbox with one request at a time, so it never binds (documented, not a resource)."""

DISCOVERY_ITEMS_PER_REQUEST: Final = 1_000
"""Item discovery pages (EWS FindItem pages hold at most 1,000 items, vb365 fact 24; Graph delta
pages INFERRED alike): one discovery request per 1,000 items moved, plus one per object."""

RETRY_JITTER: Final = 0.5
"""Each throttled thread waits Retry-After x (1 + U(0, jitter)): threads retry apart, not all at
once. INFERRED (clients add jitter to back-off; no source gives VB365's)."""

THROTTLED_SHARE_OF_EXCESS: Final = 1.0
"""Fraction of the threads over a request budget that are answered 429 when it runs empty (the
others' requests fit the recharge). 1.0: exactly the excess. INFERRED."""

RU_PER_DELTA: Final = 1.0
RU_PER_MULTI_ITEM: Final = 2.0
RU_PER_PERMISSION: Final = 5.0
"""SharePoint/OneDrive RU per request kind: a delta with token 1 RU, multi-item queries 2 RU,
permission operations 5 RU (vb365 fact 26)."""

PERMISSION_REQUESTS_PER_OBJECT: Final = 1.0
"""Permission reads per OneDrive/SharePoint object and session (5 RU each). INFERRED: VB365 backs up
item permissions, the request count is not published."""

RU_DAY_START_S: Final = 0.0
"""When the SharePoint/OneDrive daily RU budget window starts (seconds after midnight, UTC of the
simulation). INFERRED: Microsoft does not publish whether the daily budget is a calendar day or a
sliding 24 h; midnight is the assumption, a scenario parameter (tenants[].ru_day_start)."""
