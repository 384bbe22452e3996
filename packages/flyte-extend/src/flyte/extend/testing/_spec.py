"""A task template's :class:`~flyte.models.TaskSpec`, the way a deployment would describe it."""

from __future__ import annotations

from typing import Any

from flyte.models import PodTemplate, SerializationContext, TaskID, TaskSpec
from flyte.runtime import TaskTemplate


def task_spec(task: TaskTemplate[Any, Any], sctx: SerializationContext) -> TaskSpec:
    """The spec of ``task`` as deployed with ``sctx``: its settings plus its plugin's custom config.

    The typed interface is left out: the kit checks what a plugin controls (task type, custom
    config, policies), not the type engine's encoding of the function's signature.
    """
    image = task.image if isinstance(task.image, str) else str(getattr(task.image, "uri", task.image))
    return TaskSpec(
        task_id=TaskID(name=task.name, version=sctx.version, project=sctx.project or "", domain=sctx.domain or ""),
        image=sctx.image_uri(image, image) or image,
        task_type=task.task_type,
        custom=task.custom_config(sctx),
        resources=task.resources,
        retries=task.retries,
        timeout=task.timeout,
        cache=task.cache,
        cache_version=str(getattr(task, "source_hash", "")),
        secrets=task.secrets,
        env_vars=task.env_vars,
        pod_template=task.pod_template if isinstance(task.pod_template, PodTemplate) else None,
        reuse_policy=task.reusable,
        interruptible=task.interruptible,
        report=task.report,
        docs=task.docs,
        short_name=task.short_name,
        environment=task.parent_env.name if task.parent_env is not None else "",
    )
