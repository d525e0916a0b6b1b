"""The OpenStack client side: configuration, Keystone, HTTP, Compute, Image, Network and
Volume clients.

`connect(config)` is the one entry the rest of stackplan calls; it returns a `Cloud`
holding the session and the service clients. Nothing outside this package imports
`requests` or sees a wire name.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackplan.cloud.auth import Token
from stackplan.cloud.catalog import Catalog
from stackplan.cloud.compute import (
    ComputeClient,
    Flavor,
    Keypair,
    Limits,
    ServerCreate,
    ServerGroup,
    ServerInfo,
)
from stackplan.cloud.config import CloudConfig, load_config
from stackplan.cloud.http import Backpressure, HttpClient, HttpOptions, RetryEvent
from stackplan.cloud.image import Image, ImageClient
from stackplan.cloud.model import BootVolume
from stackplan.cloud.network import NetworkClient
from stackplan.cloud.secret import Secret
from stackplan.cloud.session import Session
from stackplan.cloud.volume import VolumeClient
from stackplan.errors import CloudError


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Knobs for `connect` beyond the cloud configuration (tests and benchmarks)."""

    pool_size: int = 32
    max_retries: int = 4
    page_size: int | None = None  # None: the cloud's default page size
    authenticate: bool = True  # get the first token now, so bad credentials fail early


class Cloud:
    """One cloud, reached: the session and the service clients built on it."""

    def __init__(
        self,
        config: CloudConfig,
        session: Session,
        compute: ComputeClient,
        image: ImageClient,
        network: NetworkClient | None = None,
        volume: VolumeClient | None = None,
    ):
        self.config = config
        self.session = session
        self.compute = compute
        self.image = image
        self.network = network or NetworkClient(session)
        self.volume = volume or VolumeClient(session)

    @property
    def http(self) -> HttpClient:
        return self.session.http

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (retries and token requests included)."""
        return self.session.http.request_count

    @property
    def backpressure(self) -> Backpressure:
        return self.session.http.backpressure

    def list_images(self) -> tuple[Image, ...]:
        """Every visible image: from Glance when the catalog has it, else Nova's proxy."""
        try:
            self.session.endpoint("image")
        except CloudError:
            return self.compute.list_images()
        return self.image.list_images()

    def close(self) -> None:
        self.session.http.close()


def connect(
    config: CloudConfig,
    options: ConnectOptions | None = None,
    *,
    backpressure: Backpressure | None = None,
    on_retry=None,
) -> Cloud:
    """Build the HTTP client, Keystone session and service clients for `config`."""
    options = options or ConnectOptions()
    http = HttpClient(
        HttpOptions(
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            verify=config.verify,
            cert=config.cert,
            pool_size=options.pool_size,
            max_retries=options.max_retries,
        ),
        backpressure=backpressure,
        on_retry=on_retry,
    )
    session = Session(config, http)
    if options.authenticate:
        session.token()
    compute = ComputeClient(
        session, max_microversion=config.compute_api_version, page_size=options.page_size
    )
    image = ImageClient(session, page_size=options.page_size)
    network = NetworkClient(session, page_size=options.page_size)
    volume = VolumeClient(session, page_size=options.page_size)
    return Cloud(config, session, compute, image, network, volume)


__all__ = [
    "Backpressure",
    "BootVolume",
    "Catalog",
    "Cloud",
    "CloudConfig",
    "ComputeClient",
    "ConnectOptions",
    "Flavor",
    "HttpClient",
    "HttpOptions",
    "Image",
    "ImageClient",
    "Keypair",
    "Limits",
    "NetworkClient",
    "RetryEvent",
    "Secret",
    "ServerCreate",
    "ServerGroup",
    "ServerInfo",
    "Session",
    "Token",
    "connect",
    "load_config",
]
