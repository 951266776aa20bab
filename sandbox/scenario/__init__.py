"""Scenario format v1: load, validate and describe the YAML file an instructor writes."""

from .loader import BACKGROUND_ID, builtin_scenarios, load_scenario, resolve_scenario
from .model import (
    ACTOR_KINDS,
    ACTOR_ROLES,
    CLEARNET_KINDS,
    CURRENCIES,
    FLOW_KINDS,
    OPSEC_TRAITS,
    SITE_KINDS,
    SITE_MISTAKES,
    Actor,
    Amount,
    Flow,
    Meta,
    Scenario,
    Site,
    WorldKnobs,
)

__all__ = [
    "ACTOR_KINDS",
    "ACTOR_ROLES",
    "BACKGROUND_ID",
    "CLEARNET_KINDS",
    "CURRENCIES",
    "FLOW_KINDS",
    "OPSEC_TRAITS",
    "SITE_KINDS",
    "SITE_MISTAKES",
    "Actor",
    "Amount",
    "Flow",
    "Meta",
    "Scenario",
    "Site",
    "WorldKnobs",
    "builtin_scenarios",
    "load_scenario",
    "resolve_scenario",
]
