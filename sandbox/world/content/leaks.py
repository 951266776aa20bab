"""Personal details careless actors let slip, the same facts on the forum and the social site."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.world.content.geo import country_name
from sandbox.world.content.world import ActorRow, WorldSoFar

CARS = (
    "VW Golf", "Ford Focus", "Opel Astra", "Skoda Octavia", "Toyota Corolla", "BMW 3 series",
    "Audi A4", "Renault Clio", "Peugeot 308", "Honda Civic", "Mazda 3", "Fiat Panda",
)  # fmt: skip
COLOURS = ("grey", "black", "dark blue", "red", "white", "silver", "green", "orange")
HOLIDAYS = (
    "the autumn half-term",
    "the Easter holidays",
    "the summer holidays",
    "the winter break",
    "the Whitsun holidays",
)
GYMS = ("the climbing gym", "the boxing club", "the pool", "five-a-side football", "the gym")

FORUM_LEAKS = (
    "Anyone else here from {city}? Feels like half the city is on this forum lately lol",
    "Long day at work. Being a {job} pays the bills, this pays for the fun stuff.",
    "Won't be around much for two weeks, {holiday} start on Monday and my {kid_role} "
    "{kid} ({kid_age}) wants to go to the seaside every single day.",
    "Finally sold my {colour} {car}. Too easy to recognise around {city} anyway.",
    "Does anyone know if the parcel depot in {city} x-rays packages? Asking for a friend.",
    "Off topic but any other {job}s here? The night shifts are killing me.",
    "Picking up {kid} from school and then straight to {gym}, then I'll answer PMs.",
)
SOCIAL_LEAKS = (
    "Sunset over {city} tonight. Never gets old.",
    "So proud of {kid}, first swimming badge at {kid_age}!",
    "Twelve-hour shift done. {job} life.",
    "{holiday_cap} booked! {kid} can't wait for the beach.",
    "Just picked up my new (well, used) {colour} {car}.",
    "Looking for a good mechanic in {city}, the {car} is making noises again. Tips?",
    "Back to {gym} after three weeks off. Everything hurts.",
)


@dataclass(frozen=True)
class Facts:
    """The private life of one actor, drawn once so every leak agrees with every other."""

    name: str
    city: str
    country: str
    job: str
    kid: str
    kid_role: str
    kid_age: int
    holiday: str
    car: str
    colour: str
    gym: str

    def fill(self, template: str) -> str:
        """A template with the facts filled in."""
        return template.format(
            city=self.city,
            country=self.country,
            job=self.job,
            kid=self.kid,
            kid_role=self.kid_role,
            kid_age=self.kid_age,
            holiday=self.holiday,
            holiday_cap=self.holiday[0].upper() + self.holiday[1:],
            car=self.car,
            colour=self.colour,
            gym=self.gym,
            name=self.name,
        )


def facts_of(world: WorldSoFar, actor: ActorRow) -> Facts:
    """The actor's facts, stable for a given world seed."""
    rng = world.rng("facts", actor.id)
    job = world.faker("en_US", "job", actor.id).job().split(",")[0].lower()
    kid_role = rng.choice(("daughter", "son"))
    local = world.faker(actor.locale, "kid", actor.id)
    kid = local.first_name_female() if kid_role == "daughter" else local.first_name_male()
    return Facts(
        name=actor.name,
        city=actor.city or country_name(actor),
        country=country_name(actor),
        job=job,
        kid=kid,
        kid_role=kid_role,
        kid_age=rng.randrange(5, 13),
        holiday=rng.choice(HOLIDAYS),
        car=rng.choice(CARS),
        colour=rng.choice(COLOURS),
        gym=rng.choice(GYMS),
    )


def leak_posts(rng: random.Random, facts: Facts, templates: tuple[str, ...], n: int) -> list[str]:
    """n different posts giving away facts."""
    return [facts.fill(t) for t in rng.sample(templates, min(n, len(templates)))]
