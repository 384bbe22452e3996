"""Environments with an Image spec and with an image URI, for the deploy-builds-images tests."""

from flyte.imagebuild import Image
from flyte.runtime import TaskEnvironment

spec = Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="deploy-images-test")
spec_env = TaskEnvironment("deploy_images_spec", image=spec)
uri_env = TaskEnvironment("deploy_images_uri", image="ghcr.io/example/app:1")


@spec_env.task
async def plus_one(x: int) -> int:
    return x + 1


@uri_env.task
async def minus_one(x: int) -> int:
    return x - 1
