"""Public sources of the product facts the model and its docs cite as "vb365 fact N".

``FACT_SOURCES[n]`` holds the public URLs of fact n, first the one a citation links to;
docs/sources.md shows each fact with what it says. ``link_facts`` turns "fact N" citations in
Markdown into links (the scenario reference is generated through it).
"""

from __future__ import annotations

import re

FACT_SOURCES: dict[int, tuple[str, ...]] = {
    1: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_works.html",
    ),
    2: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/vboproxy.html",
    ),
    3: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/architecture.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_used_ports.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html",
    ),
    4: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_proxy_pools.html",
        "https://bp.veeam.com/vb365/guide/buildconfig/proxy",
        "https://helpcenter.veeam.com/docs/vbo365/guide/specify_backup_proxy_server.html",
    ),
    5: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_editing_repository.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/start-vborepositoryownerchangesession.html",
    ),
    6: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/maintenance_mode.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboproxymaintenance.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/launch_new_proxy_maintenance_wizard.html",
    ),
    7: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_edit_proxy_pool.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_remove_proxy_pool.html",
    ),
    8: ("https://helpcenter.veeam.com/docs/vbo365/guide/vbo_upgrade_pool.html",),
    9: ("https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboconfigurationparameter.html",),
    10: ("https://bp.veeam.com/vb365/guide/buildconfig/proxy",),
    11: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_backup_copy.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/new_amazon_s3_backup_proxy.html",
    ),
    12: ("https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html",),
    13: ("https://bp.veeam.com/vb365/guide/design/sizing/proxy.html",),
    14: (
        "https://bp.veeam.com/vb365/guide/design/sizing/proxy.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/new_updated_cmdlets.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboproxy.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_threads_and_limit.html",
    ),
    15: (
        "https://bp.veeam.com/vb365/guide/design/sizing",
        "https://veeamvcsp.github.io/docs/vbo/blueprint/3_sizing_assumptions.html",
    ),
    16: (
        "https://bp.veeam.com/vb365/guide/design/sizing",
        "https://bp.veeam.com/vb365/guide/design/jobdesign.html",
        "https://helpcenter.veeam.com/docs/vdcm365/userguide/consider.html",
    ),
    17: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/set-vbopsqldatabaseserverlimits.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/understanding_cache.html",
    ),
    18: ("https://veeamvcsp.github.io/docs/vbo/blueprint_azure/2_sizing.html",),
    19: ("https://bp.veeam.com/vb365/guide/design/sizing/proxy.html",),
    20: ("https://helpcenter.veeam.com/docs/vbo365/guide/backup_metrics.html",),
    21: (
        "https://bp.veeam.com/vb365/guide/design/sizing/diskrepo.html",
        "https://bp.veeam.com/vb365/guide/operate/throttling",
    ),
    22: ("https://community.veeam.com/blogs-and-podcasts-57",),
    23: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_managing_organizations.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/ad_app_permissions_sd.html",
    ),
    24: (
        "https://learn.microsoft.com/exchange/client-developer/exchange-web-services/ews-throttling-in-exchange",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_system_requirements.html",
    ),
    25: ("https://learn.microsoft.com/graph/throttling-limits",),
    26: (
        "https://learn.microsoft.com/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online",
    ),
    27: (
        "https://bp.veeam.com/vb365/guide/operate/orgconfig",
        "https://bp.veeam.com/sp/SaaS/S_Build/org-config.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/backup_applications.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/feature_deprecation.html",
        "https://www.veeam.com/kb4821",
        "https://bp.veeam.com/vb365/guide/operate/throttling",
    ),
    28: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_osr.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_considerations.html",
    ),
    29: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/understanding_compression.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_osr.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_works.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/object_storage_structure.html",
    ),
    30: (
        "https://bp.veeam.com/vbo/guide/design/sizing/objectstorage.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_backup_copy.html",
    ),
    31: (
        "https://repost.aws/knowledge-center/http-5xx-errors-s3",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html",
    ),
    32: ("https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account",),
    33: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_copy_works.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/backup_copy_schedule.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/target_backup_copy_repo.html",
    ),
    34: ("https://helpcenter.veeam.com/docs/vbo365/guide/how_backup_works.html",),
    35: (
        "https://helpcenter.veeam.com/docs/vbo365/powershell/new-vbojobschedulepolicy.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/specify_scheduling_options.html",
    ),
    36: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/stopping_backup_job.html",
        "https://helpcenter.veeam.com/docs/vbo365/guide/starting_backup_job.html",
    ),
    37: (
        "https://helpcenter.veeam.com/docs/vbo365/guide/vbo_threads_and_limit.html",
        "https://helpcenter.veeam.com/docs/vbo365/powershell/set-vboproxy.html",
        "https://bp.veeam.com/vb365/guide/buildconfig/proxy",
    ),
    38: ("https://helpcenter.veeam.com/docs/vbo365/guide/retention_policy.html",),
    39: ("https://github.com/OfficeDev/ews-managed-api/issues/293",),
    40: (
        "https://www.veeam.com/kb4820",
        "https://community.veeam.com/blogs-and-podcasts-57/microsoft-ews-is-dead-what-do-you-need-to-be-aware-of-for-veeam-backups-13230",
    ),
    41: ("https://www.veeam.com/kb4820",),
    42: (
        "https://learn.microsoft.com/graph/api/mailbox-exportitems",
        "https://learn.microsoft.com/graph/api/resources/mailbox-import-export-api-overview",
    ),
    43: (
        "https://learn.microsoft.com/graph/throttling-limits",
        "https://www.lighthouse-program.com/?p=765",
    ),
}

_CITATION = re.compile(r"\b(vb365 )?(facts?) (\d+(?:(?:, |-|–| and )\d+)*)\b")


def link_facts(markdown: str) -> str:
    """Every "fact N" / "facts N, M-K" citation as Markdown links to the facts' first sources."""

    def number(m: re.Match[str]) -> str:
        n = int(m.group(0))
        return f"[{n}]({FACT_SOURCES[n][0]})" if n in FACT_SOURCES else m.group(0)

    def citation(m: re.Match[str]) -> str:
        prefix, word, nums = m.group(1) or "", m.group(2), m.group(3)
        if word == "fact" and int(nums) in FACT_SOURCES:
            return f"{prefix}[fact {nums}]({FACT_SOURCES[int(nums)][0]})"
        return f"{prefix}{word} " + re.sub(r"\d+", number, nums)

    return _CITATION.sub(citation, markdown)
