"""Endpoint selection from v3 and v2.0 catalogs: type, interface, region, overrides."""

from __future__ import annotations

import pytest

from stackplan.cloud.catalog import Catalog
from stackplan.errors import CloudError

V3 = [
    {
        "type": "compute",
        "name": "nova",
        "endpoints": [
            {
                "interface": "public",
                "region": "RegionOne",
                "region_id": "RegionOne",
                "url": "http://pub-one:8774/v2.1",
            },
            {
                "interface": "internal",
                "region": "RegionOne",
                "region_id": "RegionOne",
                "url": "http://int-one:8774/v2.1",
            },
            {
                "interface": "public",
                "region": "RegionTwo",
                "region_id": "RegionTwo",
                "url": "http://pub-two:8774/v2.1",
            },
        ],
    },
    {
        "type": "volumev3",
        "name": "cinder",
        "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://cinder/v3"}],
    },
    {
        "type": "image",
        "name": "glance",
        "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "url": ""},
            {"interface": "public", "region_id": "RegionOne", "url": "http://glance"},
        ],
    },
]
V2 = [
    {
        "type": "compute",
        "name": "nova",
        "endpoints": [
            {
                "region": "RegionOne",
                "publicURL": "http://pub:8774/v2.1/p1",
                "internalURL": "http://int:8774/v2.1/p1",
                "adminURL": "http://adm:8774/v2.1/p1",
            }
        ],
    },
]


def test_public_is_the_default_interface_and_first_match_wins():
    assert Catalog.from_v3(V3).endpoint("compute") == "http://pub-one:8774/v2.1"


def test_interface_and_region_select():
    catalog = Catalog.from_v3(V3)
    assert catalog.endpoint("compute", "internal", "RegionOne") == "http://int-one:8774/v2.1"
    assert catalog.endpoint("compute", "public", "RegionTwo") == "http://pub-two:8774/v2.1"
    assert catalog.endpoint("compute", "publicURL") == "http://pub-one:8774/v2.1"


def test_empty_urls_are_skipped():
    assert Catalog.from_v3(V3).endpoint("image") == "http://glance"


def test_alias_of_official_type():
    assert Catalog.from_v3(V3).endpoint("block-storage") == "http://cinder/v3"


def test_v2_endpoints_hold_every_interface():
    catalog = Catalog.from_v2(V2)
    assert catalog.endpoint("compute") == "http://pub:8774/v2.1/p1"
    assert catalog.endpoint("compute", "internal") == "http://int:8774/v2.1/p1"
    assert catalog.endpoint("compute", "admin", "RegionOne") == "http://adm:8774/v2.1/p1"


def test_missing_endpoint_names_what_the_catalog_has():
    with pytest.raises(CloudError) as err:
        Catalog.from_v3(V3).endpoint("compute", "admin", "RegionOne")
    assert "admin endpoint for compute service in RegionOne region not found" in err.value.message
    assert "compute/public/RegionOne" in err.value.hint


def test_empty_catalog_suggests_a_project():
    with pytest.raises(CloudError) as err:
        Catalog().endpoint("compute")
    assert "empty" in err.value.message
    assert "OS_PROJECT_NAME" in err.value.hint
