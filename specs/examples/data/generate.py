#!/usr/bin/env python
"""Generate the synthetic example data used by the example specs.

Every file except ``facebook_posts_uci.csv`` (real data, copied unchanged) is
synthetic: drawn from ``numpy.random.default_rng(2026)`` with fixed formatting
and a stable row order, so re-running this script reproduces the committed CSV
files byte for byte.

    python specs/examples/data/generate.py            # writes next to this file
    python specs/examples/data/generate.py --out DIR  # writes into DIR

Period: 2026-01-01 .. 2026-10-31 (the examples are evaluated "as of" 2026-11-01).
All timestamps are UTC.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 2026
HERE = Path(__file__).resolve().parent
FACEBOOK_UCI = Path("/work/shared/data/facebook_posts_uci.csv")

START = date(2026, 1, 1)
END = date(2026, 10, 31)
START_DT = datetime(2026, 1, 1)
END_DT = datetime(2026, 10, 31, 23, 59, 59)
DAYS = [START + timedelta(days=i) for i in range((END - START).days + 1)]
N_DAYS = len(DAYS)

# name -> (first day, last day, channels the campaign runs on)
CAMPAIGNS = {
    "spring-sale": (date(2026, 3, 15), date(2026, 4, 15),
                    ("x", "instagram", "facebook", "paid_search", "email")),
    "trade-fair-2026": (date(2026, 4, 20), date(2026, 5, 20), ("x", "linkedin", "email")),
    "black-friday-warmup": (date(2026, 10, 19), date(2026, 10, 31),
                            ("x", "instagram", "facebook", "paid_search", "email")),
}
FAIR = (date(2026, 5, 18), date(2026, 5, 20))
NETWORKS = ("x", "instagram", "linkedin", "facebook")
CHANNELS = ("x", "instagram", "linkedin", "paid_search", "email", "direct")
SOCIAL = ("x", "instagram", "linkedin")
SITE = "https://lumora.example"

FIRST_ES = ["Lucía", "Sofía", "María", "Martina", "Paula", "Alejandro", "Javier", "Diego", "Pablo",
            "Íñigo", "Begoña", "Nuria", "Andrés", "Ramón", "Jesús", "Iván", "Valentina", "Camila",
            "Mateo", "Sebastián", "Maite", "Álvaro", "Noemí", "Julián"]
LAST_ES = ["García", "Fernández", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Muñoz", "Peña",
           "Ibáñez", "Núñez", "Ramírez", "Herrera", "Castaño", "Ordóñez", "Domínguez", "Rincón", "Beltrán"]
FIRST_PL = ["Łukasz", "Paweł", "Michał", "Małgorzata", "Katarzyna", "Agnieszka", "Zofia", "Wojciech",
            "Bartłomiej", "Józef", "Anna", "Krzysztof", "Joanna", "Ola", "Jędrzej", "Grażyna", "Tomasz"]
LAST_PL = ["Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zieliński",
           "Szymańska", "Woźniak", "Dąbrowski", "Kozłowska", "Jankowski", "Mazur", "Król", "Łapiński",
           "Gołębiowska", "Sójka"]


# ----------------------------------------------------------------------------- formatting

def b(v) -> str:
    return "true" if v else "false"


def f2(v: float) -> str:
    s = f"{v:.2f}"
    return "0.00" if s == "-0.00" else s


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def ds(d: date) -> str:
    return d.isoformat()


def write_csv(path: Path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


# ----------------------------------------------------------------------------- helpers

def campaign_on(d: date, channel: str | None = None) -> str:
    for name, (a, z, chans) in CAMPAIGNS.items():
        if a <= d <= z and (channel is None or channel in chans):
            return name
    return ""


def trend(d: date) -> float:
    """0 at the start of the period, 1 at the end."""
    return (d - START).days / (N_DAYS - 1)


def follower_boost(d: date) -> float:
    if FAIR[0] <= d <= FAIR[1]:
        return 2.4
    c = campaign_on(d)
    return {"spring-sale": 0.45, "trade-fair-2026": 0.55, "black-friday-warmup": 0.6}.get(c, 0.0)


def at(d: date, seconds: int) -> datetime:
    return datetime(d.year, d.month, d.day) + timedelta(seconds=int(seconds))


def rand_time(rng, d: date, hours: np.ndarray | None = None) -> datetime:
    if hours is None:
        return at(d, rng.integers(0, 86400))
    h = int(rng.choice(24, p=hours))
    return at(d, h * 3600 + int(rng.integers(0, 3600)))


def hour_profile(peaks: list[tuple[int, float]], floor: float = 0.05) -> np.ndarray:
    w = np.full(24, floor)
    for h, v in peaks:
        w[h] += v
    return w / w.sum()


HOURS_X = hour_profile([(7, .6), (8, 1), (9, 1), (10, 1), (11, .9), (12, .8), (13, .7), (14, .8),
                        (15, .8), (16, .9), (17, 1), (18, .9), (19, .7), (20, .5)], 0.0)
HOURS_LI = hour_profile([(6, .5), (7, 1), (8, 1), (9, .9), (10, .8), (11, .7), (12, .6), (13, .6),
                         (14, .5), (15, .4)], 0.0)
HOURS_IG = hour_profile([(9, .5), (10, .6), (11, .7), (12, .8), (16, .7), (17, .9), (18, 1),
                         (19, 1), (20, .8)], 0.0)
HOURS_FB = hour_profile([(8, .6), (9, .8), (10, .8), (11, .7), (13, .6), (15, .6), (17, .8),
                         (18, .7)], 0.0)
HOURS_ANY = hour_profile([(h, 1.0) for h in range(7, 23)], 0.15)
NET_HOURS = {"x": HOURS_X, "instagram": HOURS_IG, "linkedin": HOURS_LI, "facebook": HOURS_FB}


def person_name(rng) -> str:
    if rng.random() < 0.6:
        return f"{FIRST_ES[rng.integers(len(FIRST_ES))]} {LAST_ES[rng.integers(len(LAST_ES))]}"
    return f"{FIRST_PL[rng.integers(len(FIRST_PL))]} {LAST_PL[rng.integers(len(LAST_PL))]}"


def handle_of(name: str, suffix: str = "") -> str:
    return "@" + name.lower().replace(" ", "_") + suffix


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(int)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


# ----------------------------------------------------------------------------- generator

class Generator:
    def __init__(self, out: Path):
        self.out = out
        self.rng = np.random.default_rng(SEED)
        self.used_codes: set[str] = set()

    def short_code(self) -> str:
        alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
        while True:
            code = "".join(alphabet[i] for i in self.rng.integers(0, len(alphabet), 4))
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def run(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.followers()
        self.calendar_and_schedule()
        self.x_posts()
        self.other_network_posts()
        self.network_posts_file()
        self.shortlink_clicks()
        self.x_analytics_export()
        self.mentions()
        self.audience()
        self.profile_visits()
        self.influencers()
        self.customers()
        self.leads()
        self.touchpoints()
        self.support_and_spend_files()
        self.signups_and_costs()
        self.social_study()
        if FACEBOOK_UCI.exists() and FACEBOOK_UCI.resolve() != (self.out / FACEBOOK_UCI.name).resolve():
            shutil.copyfile(FACEBOOK_UCI, self.out / FACEBOOK_UCI.name)
        build_warehouse(self.out)

    # ------------------------------------------------------------------ X followers
    def followers(self) -> None:
        rng = self.rng
        accounts = {
            # start followers, start following, new(t) base, new trend, lost base, lost trend, campaign gain
            "brand": (8000, 1180, 14.0, 6.0, 6.5, 2.0, 1.0),
            "rival_a": (15000, 2410, 13.0, 1.0, 10.5, 0.5, 0.0),
            "rival_b": (5000, 640, 19.0, 10.0, 6.0, 2.0, 0.0),
        }
        rows = []
        self.brand_followers: dict[date, int] = {}
        self.brand_new: dict[date, int] = {}
        for acc, (f0, g0, nb, nt, lb, lt, camp) in accounts.items():
            fol, fing = f0, g0
            for d in DAYS:
                wk = 0.85 if d.weekday() >= 5 else 1.0
                lam_new = (nb + nt * trend(d)) * wk * (1 + camp * follower_boost(d))
                new = int(rng.poisson(lam_new))
                lost = int(rng.poisson((lb + lt * trend(d)) * (1.3 if acc == "brand" and d.day == 1 else 1.0)))
                fol = fol + new - lost
                fing = fing + int(rng.poisson(1.1)) - int(rng.poisson(0.9))
                rows.append((ds(d), acc, fol, fing, new, lost))
                if acc == "brand":
                    self.brand_followers[d] = fol
                    self.brand_new[d] = new
        write_csv(self.out / "x_followers.csv",
                  ["date", "account", "followers", "following", "new_followers", "lost_followers"], rows)

        sources = ["search", "profile_visit", "retweet", "recommendation", "campaign_link"]
        rows = []
        for d in DAYS:
            p = np.array([0.22, 0.30, 0.23, 0.25, 0.0])
            if campaign_on(d, "x"):
                p[4] = 0.35 if FAIR[0] <= d <= FAIR[1] else 0.22
            p = p / p.sum()
            split = rng.multinomial(self.brand_new[d], p)
            for s, n in zip(sources, split, strict=False):
                rows.append((ds(d), s, int(n)))
        write_csv(self.out / "x_follower_sources.csv", ["date", "source", "new_followers"], rows)

    # ------------------------------------------------------------------ calendar
    def calendar_and_schedule(self) -> None:
        rng = self.rng
        base = {"x": 21, "instagram": 6, "linkedin": 4, "facebook": 5}
        extra = {  # campaign -> network -> (extra planned posts per week, campaign posts per week)
            "spring-sale": {"x": (4, 6), "instagram": (3, 4), "facebook": (2, 3)},
            "trade-fair-2026": {"x": (7, 10), "linkedin": (2, 4)},
            "black-friday-warmup": {"x": (4, 7), "instagram": (3, 5), "facebook": (3, 4)},
        }
        first_monday = START - timedelta(days=START.weekday())
        weeks = []
        w = first_monday
        while w <= END:
            weeks.append(w)
            w += timedelta(days=7)
        cal_rows = []
        # network -> list of (day, campaign) for each published post
        self.schedule: dict[str, list[tuple[date, str]]] = {n: [] for n in NETWORKS}
        for wk in weeks:
            wdays = [wk + timedelta(days=i) for i in range(7) if START <= wk + timedelta(days=i) <= END]
            frac = len(wdays) / 7
            for net in NETWORKS:
                b_ = base[net] + (1 if net == "instagram" and wk >= date(2026, 7, 1) else 0)
                camp_posts = {}
                for cname, per_net in extra.items():
                    a, z, _ = CAMPAIGNS[cname]
                    cdays = [d for d in wdays if a <= d <= z]
                    if net in per_net and cdays:
                        share = len(cdays) / max(1, len(wdays))
                        b_ += per_net[net][0] * share
                        camp_posts[cname] = (per_net[net][1] * len(cdays) / 7, cdays)
                planned = round(b_ * frac)
                r = rng.random()
                if r < 0.28:
                    actual = planned - int(rng.choice([1, 1, 2, 3]))
                elif r < 0.33:
                    actual = planned + 1
                else:
                    actual = planned
                actual = max(0, actual)
                cal_rows.append((ds(wk), net, planned))
                days = self._spread(net, wdays, actual)
                tags = [""] * len(days)
                for cname, (n_camp, cdays) in camp_posts.items():
                    idx = [i for i, d in enumerate(days) if d in cdays and not tags[i]]
                    k = min(len(idx), round(n_camp * actual / max(planned, 1)))
                    if k:
                        for i in rng.choice(idx, size=k, replace=False):
                            tags[int(i)] = cname
                self.schedule[net].extend(zip(days, tags, strict=False))
        write_csv(self.out / "publishing_calendar.csv", ["week_start", "network", "planned_posts"], cal_rows)

    def _spread(self, net: str, wdays: list[date], n: int) -> list[date]:
        rng = self.rng
        if not wdays or n <= 0:
            return []
        if net == "x":  # 2..5 posts every day
            counts = dict.fromkeys(wdays, 2)
            left = n - 2 * len(wdays)
            while left > 0:
                cands = [d for d in wdays if counts[d] < 5]
                if not cands:
                    break
                wts = np.array([1.0 if d.weekday() < 5 else 0.6 for d in cands])
                d = cands[int(rng.choice(len(cands), p=wts / wts.sum()))]
                counts[d] += 1
                left -= 1
            return [d for d in wdays for _ in range(counts[d])]
        if net == "linkedin":
            cands = [d for d in wdays if d.weekday() < 5] or wdays
            wts = np.ones(len(cands))
        else:
            cands = wdays
            wts = np.array([1.0 if d.weekday() < 5 else 0.7 for d in cands])
        picks = rng.choice(len(cands), size=n, replace=True, p=wts / wts.sum())
        return sorted(cands[int(i)] for i in picks)

    # ------------------------------------------------------------------ X posts
    def x_posts(self) -> None:
        rng = self.rng
        self.campaign_links: dict[tuple[str, str], str] = {}
        for cname, (_, _, chans) in CAMPAIGNS.items():
            for net in NETWORKS:
                if net in chans:
                    self.campaign_links[(cname, net)] = "https://sho.rt/" + self.short_code()
        ctypes = ["photo", "video", "link", "text", "poll"]
        ct_p = np.array([0.35, 0.15, 0.25, 0.18, 0.07])
        topics = ["product", "industry_news", "behind_the_scenes", "customer_story", "event"]
        top_p = np.array([0.30, 0.22, 0.16, 0.16, 0.16])
        ct_imp = {"photo": 1.0, "video": 1.35, "link": 0.85, "text": 0.7, "poll": 1.1}
        ct_rt = {"photo": 1.0, "video": 1.8, "link": 0.8, "text": 0.7, "poll": 0.6}
        top_rt = {"product": 0.9, "industry_news": 1.0, "behind_the_scenes": 1.1, "customer_story": 1.7,
                  "event": 1.0}
        posts = []
        sched = sorted(self.schedule["x"])
        by_day: dict[date, list[str]] = {}
        for d, camp in sched:
            by_day.setdefault(d, []).append(camp)
        seq = 0
        for d in DAYS:
            camps = by_day.get(d, [])
            times = sorted(rand_time(rng, d, HOURS_X) for _ in camps)
            for t, camp in zip(times, camps, strict=False):
                seq += 1
                ms = int((t - datetime(1970, 1, 1)).total_seconds() * 1000) + int(rng.integers(0, 1000))
                tweet_id = ((ms - 1288834974657) << 22) + int(rng.integers(0, 1 << 22))
                tp = top_p.copy()
                if camp == "trade-fair-2026" or FAIR[0] <= d <= FAIR[1]:
                    tp = np.array([0.2, 0.1, 0.15, 0.1, 0.45])
                topic = topics[int(rng.choice(5, p=tp / tp.sum()))]
                cp = ct_p.copy()
                if camp:
                    cp = np.array([0.35, 0.2, 0.3, 0.1, 0.05])
                ctype = ctypes[int(rng.choice(5, p=cp / cp.sum()))]
                wk = 0.85 if d.weekday() >= 5 else 1.0
                imp_mu = self.brand_followers[d] * 0.3 * ct_imp[ctype] * wk * (1.3 if camp else 1.0)
                impressions = max(40, int(imp_mu * rng.lognormal(0, 0.45)))
                rt_rate = 0.0016 * ct_rt[ctype] * top_rt[topic] * (1 + 0.5 * trend(d))
                retweets = int(rng.poisson(impressions * rt_rate))
                likes = int(rng.poisson(impressions * 0.011 * (1.2 if ctype == "video" else 1.0)))
                replies = int(rng.poisson(impressions * (0.0035 if ctype == "poll" else 0.0014)))
                url = ""
                if camp and (ctype == "link" or rng.random() < 0.15):
                    url = self.campaign_links[(camp, "x")]
                elif ctype == "link" or rng.random() < 0.12:
                    url = "https://sho.rt/" + self.short_code()
                link_clicks = 0
                if url:
                    ctr = (0.019 if ctype == "link" else 0.007) * rng.lognormal(0, 0.35)
                    link_clicks = int(rng.binomial(impressions, min(ctr, 0.2)))
                    if ctype == "link":
                        link_clicks = max(1, link_clicks)
                profile_visits = int(rng.poisson(impressions * 0.0035))
                text = self._x_text(topic, camp, url, ctype)
                posts.append({"post_id": tweet_id, "posted_at": t, "content_type": ctype, "topic": topic,
                              "campaign": camp, "text": text, "impressions": impressions, "retweets": retweets,
                              "replies": replies, "likes": likes, "link_clicks": link_clicks, "url": url,
                              "profile_visits": profile_visits})
        posts[200]["text"] = "<script>alert(1)</script>"  # HTML-escaping test case
        self.xposts = posts
        cols = ["post_id", "posted_at", "content_type", "topic", "campaign", "text", "impressions", "retweets",
                "replies", "likes", "link_clicks", "url", "profile_visits"]
        write_csv(self.out / "x_posts.csv", cols,
                  [[p[c] if c != "posted_at" else ts(p[c]) for c in cols] for p in posts])

    def _x_text(self, topic: str, camp: str, url: str, ctype: str) -> str:
        rng = self.rng
        lines = {
            "product": ["Nuevo Lumora One: más ligero, más rápido y con batería para todo el día.",
                        "¿Ya probaste el modo oscuro de la app? Cuéntanos qué te parece.",
                        "Lumora Pro ya disponible en Polska 🇵🇱 — zamówienia od dziś!",
                        "Three small features in the latest update that save you time every day.",
                        "Diseñado en Madrid, fabricado para durar: así es el nuevo estuche."],
            "industry_news": ["Lo que dice el último informe del sector sobre compras móviles en 2026.",
                              "Rynek e-commerce w Polsce rośnie o 12% rok do roku. Co to oznacza?",
                              "Five trends we are watching this quarter in retail tech.",
                              "Resumen de la semana: logística, pagos y atención al cliente."],
            "behind_the_scenes": ["Un día en nuestro almacén de Getafe 📦",
                                  "Za kulisami: tak testujemy każdy egzemplarz w Łodzi.",
                                  "Meet the team behind our support desk — 14 people, 4 languages.",
                                  "Así nació el logo: bocetos, dudas y un café de más."],
            "customer_story": ["Ferretería Núñez vende un 30% más online desde que usa Lumora.",
                               "Historia de clienta: cómo Begoña organiza su tienda con la app.",
                               "Klient miesiąca: piekarnia z Krakowa, która podwoiła zamówienia.",
                               "How a family bakery in Valencia cut its delivery times in half."],
            "event": ["Nos vemos en la feria, stand B14, del 18 al 20 de mayo.",
                      "Demo en directo en la feria: reserva tu plaza.",
                      "Webinar el jueves a las 17:00 (CET): preguntas y respuestas.",
                      "Spotkajmy się na targach — pokaz na żywo codziennie o 11:00."],
        }
        text = lines[topic][int(rng.integers(len(lines[topic])))]
        if ctype == "poll":
            text = "Encuesta: " + text
        tag = {"spring-sale": " #RebajasDePrimavera", "trade-fair-2026": " #Feria2026",
               "black-friday-warmup": " #BlackFriday"}.get(camp, "")
        return text + tag + (" " + url if url else "")

    # ------------------------------------------------------------------ other networks
    def other_network_posts(self) -> None:
        rng = self.rng
        followers0 = {"instagram": (20000, 6500), "linkedin": (5200, 2300), "facebook": (14000, 300)}
        ctypes = {"instagram": (["photo", "video", "carousel", "reel"], [0.35, 0.15, 0.25, 0.25]),
                  "linkedin": (["text", "photo", "link", "video", "document"], [0.2, 0.3, 0.3, 0.1, 0.1]),
                  "facebook": (["photo", "video", "link", "text"], [0.4, 0.2, 0.3, 0.1])}
        reach_rate = {"instagram": 0.32, "linkedin": 0.45, "facebook": 0.18}
        rates = {  # likes, comments, shares, saves (per reach)
            "instagram": (0.052, 0.004, 0.005, 0.008),
            "linkedin": (0.028, 0.003, 0.004, 0.0),
            "facebook": (0.022, 0.003, 0.005, 0.0),
        }
        self.net_followers = {}
        rows = []
        for net, (f0, growth) in followers0.items():
            self.net_followers[net] = {d: int(f0 + growth * trend(d)) for d in DAYS}
            names, probs = ctypes[net]
            for counters, (d, camp) in enumerate(sorted(self.schedule[net]), start=1):
                t = rand_time(rng, d, NET_HOURS[net])
                ctype = names[int(rng.choice(len(names), p=np.array(probs)))]
                wk = 0.8 if (net == "linkedin" and d.weekday() >= 5) else 1.0
                ct_f = {"video": 1.3, "reel": 1.6, "carousel": 1.15, "document": 1.2, "text": 0.8}.get(ctype, 1.0)
                reach = max(50, int(self.net_followers[net][d] * reach_rate[net] * ct_f * wk
                                    * (1.35 if camp else 1.0) * rng.lognormal(0, 0.4)))
                impressions = int(reach * rng.uniform(1.25, 1.6))
                lr, cr, sr, svr = rates[net]
                sh_f = 1.6 if ctype in ("video", "reel") else 1.0
                likes = int(rng.poisson(reach * lr))
                comments = int(rng.poisson(reach * cr))
                shares = int(rng.poisson(reach * sr * sh_f))
                saves = int(rng.poisson(reach * svr))
                has_link = camp != "" or ctype == "link" or (net == "instagram" and rng.random() < 0.1)
                link_clicks = 0
                if has_link:
                    ctr = {"instagram": 0.0015, "linkedin": 0.005, "facebook": 0.003}[net] * rng.lognormal(0, 0.35)
                    link_clicks = max(1, int(rng.binomial(impressions, min(ctr, 0.2))))
                prefix = {"instagram": "ig", "linkedin": "li", "facebook": "fb"}[net]
                rows.append({"post_id": f"{prefix}-{counters:05d}", "network": net, "published_at": t,
                             "content_type": ctype, "campaign": camp, "impressions": impressions, "reach": reach,
                             "likes": likes, "comments": comments, "shares": shares, "link_clicks": link_clicks,
                             "saves": saves})
        self.other_posts = rows

    def network_posts_file(self) -> None:
        rng = self.rng
        rows = []
        for p in self.xposts:
            rows.append({"post_id": f"x-{p['post_id']}", "network": "x", "published_at": p["posted_at"],
                         "content_type": p["content_type"], "campaign": p["campaign"],
                         "impressions": p["impressions"],
                         "reach": int(p["impressions"] * rng.uniform(0.6, 0.8)), "likes": p["likes"],
                         "comments": p["replies"], "shares": p["retweets"], "link_clicks": p["link_clicks"],
                         "saves": int(rng.poisson(p["likes"] * 0.06))})
        rows.extend(self.other_posts)
        rows.sort(key=lambda r: (r["published_at"], r["post_id"]))
        self.network_posts = rows
        cols = ["post_id", "network", "published_at", "content_type", "campaign", "impressions", "reach", "likes",
                "comments", "shares", "link_clicks", "saves"]
        write_csv(self.out / "network_posts.csv", cols,
                  [[r[c] if c != "published_at" else ts(r[c]) for c in cols] for r in rows])

    # ------------------------------------------------------------------ short links
    def shortlink_clicks(self) -> None:
        rng = self.rng
        pages = {"spring-sale": ("/rebajas", "Rebajas de primavera"),
                 "trade-fair-2026": ("/feria/demo", "Demo en la feria 2026"),
                 "black-friday-warmup": ("/black-friday", "Black Friday anticipado")}
        referrer = {"x": "t.co", "instagram": "instagram.com", "linkedin": "linkedin.com",
                    "facebook": "facebook.com"}
        countries = ["ES", "PL", "MX", "US", "DE", "AR", "CO"]
        c_p = np.array([0.42, 0.22, 0.12, 0.08, 0.07, 0.05, 0.04])
        devices = ["mobile", "desktop", "tablet"]
        x_url = {f"x-{p['post_id']}": p["url"] for p in self.xposts}
        rows = []
        for r in self.network_posts:
            camp = r["campaign"]
            if not camp or r["link_clicks"] == 0:
                continue
            net = r["network"]
            link = self.campaign_links[(camp, net)]
            if net == "x" and x_url[r["post_id"]] != link:
                continue
            path, title = pages[camp]
            long_url = f"{SITE}{path}?utm_source={net}&utm_medium=social&utm_campaign={camp}"
            n = int(rng.binomial(r["link_clicks"], 0.85))  # the shortener filters bots and repeats
            dev_p = np.array([0.55, 0.4, 0.05]) if net == "linkedin" else np.array([0.8, 0.15, 0.05])
            for _ in range(n):
                t = r["published_at"] + timedelta(seconds=int(rng.exponential(5 * 3600)) + 5)
                if t > END_DT:
                    continue
                ref = referrer[net] if rng.random() < 0.82 else "direct"
                rows.append((link, long_url, title, t.strftime("%Y-%m-%dT%H:%M:%SZ"), ref,
                             countries[int(rng.choice(7, p=c_p))], devices[int(rng.choice(3, p=dev_p))]))
        rows.sort(key=lambda x: (x[3], x[0]))
        write_csv(self.out / "shortlink_clicks.csv",
                  ["Short link", "Long URL", "Title", "Clicked at", "Referrer", "Country", "Device"], rows)

    # ------------------------------------------------------------------ X analytics export
    def x_analytics_export(self) -> None:
        rng = self.rng
        cols = ["Tweet id", "Tweet permalink", "Tweet text", "time", "impressions", "engagements",
                "engagement rate", "retweets", "replies", "likes", "user profile clicks", "url clicks",
                "hashtag clicks", "detail expands", "permalink clicks", "app opens", "app installs", "follows",
                "email tweet", "dial phone", "media views", "media engagements"]
        rows = []
        for p in self.xposts:
            if p["posted_at"] >= datetime(2026, 4, 1):
                break
            imp = p["impressions"]
            hashtag = int(rng.poisson(imp * 0.0008)) if "#" in p["text"] else 0
            detail = int(rng.poisson(imp * 0.012))
            permalink = int(rng.poisson(imp * 0.0006))
            app_opens = int(rng.poisson(imp * 0.0002))
            follows = int(rng.poisson(imp * 0.0004))
            email = int(rng.poisson(imp * 0.00005))
            media = p["content_type"] in ("photo", "video")
            media_views = int(imp * rng.uniform(0.2, 0.5)) if media else 0
            media_eng = int(rng.poisson(imp * 0.01)) if media else 0
            parts = [p["retweets"], p["replies"], p["likes"], p["profile_visits"], p["link_clicks"], hashtag,
                     detail, permalink, app_opens, 0, follows, email, 0, media_eng]
            eng = int(sum(parts))
            rows.append([str(p["post_id"]), f"https://x.com/lumora/status/{p['post_id']}", p["text"],
                         p["posted_at"].strftime("%Y-%m-%d %H:%M +0000"), imp, eng, repr(eng / imp),
                         p["retweets"], p["replies"], p["likes"], p["profile_visits"], p["link_clicks"],
                         hashtag, detail, permalink, app_opens, 0, follows, email, 0, media_views, media_eng])
        write_csv(self.out / "x_analytics_export.csv", cols, rows)

    # ------------------------------------------------------------------ mentions
    def mentions(self) -> None:
        rng = self.rng
        authors = []
        seen = set()
        while len(authors) < 700:
            name = person_name(rng)
            h = handle_of(name, "" if rng.random() < 0.5 else str(int(rng.integers(1, 99))))
            if h in seen:
                continue
            seen.add(h)
            authors.append((h, int(np.exp(rng.normal(6.3, 1.8))) + 3))
        a_w = np.array([f ** 0.15 for _, f in authors])
        a_w = a_w / a_w.sum()
        texts = {
            "positive": ["¡Me encanta mi nuevo Lumora One! Llegó en 24 h.", "Świetna obsługa klienta, dziękuję!",
                         "Best purchase this year, honestly.", "Gracias por resolverlo tan rápido 🙌",
                         "La demo en la feria fue lo mejor del día.", "Polecam, działa bez zarzutu."],
            "neutral": ["¿Alguien sabe si el Lumora Pro es compatible con Android 14?",
                        "Czy wysyłacie do Niemiec?", "Comparing a few options, any opinions?",
                        "Vi el anuncio, ¿hasta cuándo dura la oferta?", "What time is the demo tomorrow?"],
            "negative": ["Mi pedido lleva 10 días sin llegar y nadie responde.", "Aplikacja ciągle się zawiesza.",
                         "Third time the charger broke. Not happy.", "El cargo en la tarjeta salió duplicado.",
                         "Reklamacja od tygodnia bez odpowiedzi."],
        }
        rows = []
        for d in DAYS:
            lam = (4 + 2.5 * trend(d)) * (0.8 if d.weekday() >= 5 else 1.0) * (1 + 1.3 * follower_boost(d))
            for _ in range(int(rng.poisson(lam))):
                ai = int(rng.choice(len(authors), p=a_w))
                author, af = authors[ai]
                neg = 0.24 if campaign_on(d) == "black-friday-warmup" else 0.17
                sent = ["positive", "neutral", "negative"][int(rng.choice(3, p=[0.45, 0.55 - neg, neg]))]
                ans_p = {"negative": 0.7, "neutral": 0.35, "positive": 0.25}[sent]
                has_url = rng.random() < 0.2
                text = texts[sent][int(rng.integers(len(texts[sent])))]
                text = "@lumora " + text + (" https://sho.rt/" + self.short_code() if has_url else "")
                rows.append([rand_time(rng, d, HOURS_ANY), author, af, af >= 10000, rng.random() < 0.85,
                             rng.random() < 0.45, has_url, sent, rng.random() < ans_p, rng.random() < 0.3, text])
        rows.sort(key=lambda r: (r[0], r[1]))
        rows[137][10] = '@lumora Probando el formato: <b>bold</b> & "quotes" — ¿se ve bien?'
        out = []
        for i, r in enumerate(rows, 1):
            out.append([f"m{i:05d}", ts(r[0]), r[1], r[2], b(r[3]), b(r[4]), b(r[5]), b(r[6]), r[7], b(r[8]),
                        b(r[9]), r[10]])
        write_csv(self.out / "x_mentions.csv",
                  ["mention_id", "created_at", "author", "author_followers", "is_influencer", "mentions_brand",
                   "mentions_product", "has_url", "sentiment", "answered", "is_reply", "text"], out)

    # ------------------------------------------------------------------ audience
    def audience(self) -> None:
        rng = self.rng
        pairs = [("ES", "es", .34), ("ES", "en", .03), ("PL", "pl", .20), ("PL", "en", .03), ("MX", "es", .12),
                 ("US", "en", .08), ("US", "es", .03), ("DE", "de", .06), ("DE", "en", .02), ("AR", "es", .05),
                 ("CO", "es", .04)]
        genders = {"x": (.42, .50, .08), "instagram": (.60, .36, .04), "linkedin": (.45, .50, .05),
                   "facebook": (.55, .42, .03)}
        rows = []
        for m in range(1, 11):
            d = date(2026, m, 1)
            for net in NETWORKS:
                total = self.brand_followers[d] if net == "x" else self.net_followers[net][d]
                keys, w = [], []
                for c, lang, pw in pairs:
                    drift = 1 + (0.25 * trend(d) if c == "PL" else 0.0)
                    for g, gw in zip(("female", "male", "unknown"), genders[net], strict=False):
                        keys.append((c, lang, g))
                        w.append(pw * drift * gw * rng.lognormal(0, 0.04))
                counts = largest_remainder(total, np.array(w))
                for (c, lang, g), n in zip(keys, counts, strict=False):
                    rows.append((ds(d), net, c, lang, g, int(n)))
        write_csv(self.out / "audience.csv", ["month", "network", "country", "language", "gender", "followers"],
                  rows)

    # ------------------------------------------------------------------ profile visits
    def profile_visits(self) -> None:
        rng = self.rng
        tabs = {"x": {"posts": .75, "about": .25}, "instagram": {"posts": .7, "shop": .3},
                "linkedin": {"posts": .6, "about": .4},
                "facebook": {"posts": .7, "reviews": .3}}
        refs = {"search": .3, "post": .35, "ad": .1, "external": .1, "direct": .15}
        base = {"x": 45, "instagram": 160, "linkedin": 35, "facebook": 40}
        x_post_visits: dict[date, int] = {}
        for p in self.xposts:
            x_post_visits[p["posted_at"].date()] = x_post_visits.get(p["posted_at"].date(), 0) + p["profile_visits"]
        rows = []
        for d in DAYS:
            for net in NETWORKS:
                wk = 0.6 if (net == "linkedin" and d.weekday() >= 5) else 1.0
                camp = campaign_on(d, net)
                lam = base[net] * (1 + 0.3 * trend(d)) * wk * (1 + 0.5 * follower_boost(d))
                for tab, tw in tabs[net].items():
                    for ref, rw in refs.items():
                        if ref == "ad" and not camp:
                            continue
                        if (net == "x" and ref == "post") or (net != "x" and ref == "external"):
                            continue
                        v = int(rng.poisson(lam * tw * rw))
                        if v:
                            rows.append((ds(d), net, tab, ref, v))
                if net == "x":
                    total = x_post_visits.get(d, 0)
                    first = int(rng.binomial(total, 0.75))
                    for tab, v in (("posts", first), ("about", total - first)):
                        if v:
                            rows.append((ds(d), net, tab, "post", v))
        rows.sort(key=lambda r: (r[0], NETWORKS.index(r[1]), r[2], r[3]))
        write_csv(self.out / "profile_visits.csv", ["date", "network", "tab", "referrer", "visits"], rows)

    # ------------------------------------------------------------------ influencers
    def influencers(self) -> None:
        rng = self.rng
        pool: dict[str, list[tuple[str, int]]] = {n: [] for n in NETWORKS}
        seen = set()
        styles = ["", "_oficial", "_tech", "_styl", "_vlog", "_blog"]
        for net in NETWORKS:
            while len(pool[net]) < 12:
                h = handle_of(person_name(rng), styles[int(rng.integers(len(styles)))])
                if h in seen:
                    continue
                seen.add(h)
                pool[net].append((h, int(10000 + np.exp(rng.normal(10.3, 1.0)))))
        types = {"x": ["reply", "share", "like", "mention", "quote"], "instagram": ["like", "reply", "share", "mention"],
                 "linkedin": ["like", "reply", "share"], "facebook": ["like", "share", "reply"]}
        rows = []
        for p in self.network_posts:
            net = p["network"]
            lam = 0.18 * (2.0 if p["campaign"] else 1.0) * (1.5 if p["content_type"] in ("video", "reel") else 1.0)
            lam *= {"x": 0.8, "instagram": 2.0, "linkedin": 1.5, "facebook": 1.0}[net]
            for _ in range(int(rng.poisson(lam))):
                inf, fol = pool[net][int(rng.integers(len(pool[net])))]
                t = p["published_at"] + timedelta(seconds=int(rng.exponential(8 * 3600)) + 60)
                if t > END_DT:
                    continue
                it = types[net][int(rng.integers(len(types[net])))]
                rows.append([t, net, inf, fol, it, p["post_id"]])
        rows.sort(key=lambda r: (r[0], r[5], r[2]))
        out = [[f"i{i:05d}", ts(r[0]), *r[1:]] for i, r in enumerate(rows, 1)]
        write_csv(self.out / "influencer_interactions.csv",
                  ["interaction_id", "occurred_at", "network", "influencer", "influencer_followers",
                   "interaction_type", "post_id"], out)

    # ------------------------------------------------------------------ customers and orders
    def customers(self) -> None:
        rng = self.rng
        n = 6000
        day_w = np.array([(1 + 0.5 * trend(d)) * (0.75 if d.weekday() >= 5 else 1.0)
                          * (1 + 0.35 * bool(campaign_on(d))) for d in DAYS])
        signup_days = np.sort(rng.choice(N_DAYS, size=n, p=day_w / day_w.sum()))
        ch_exposed = np.array([0.20, 0.22, 0.13, 0.20, 0.12, 0.13])
        ch_control = np.array([0.0, 0.0, 0.0, 0.40, 0.25, 0.35])
        base_cost = {"x": 15, "instagram": 17, "linkedin": 32, "paid_search": 38, "email": 7, "direct": 2}
        customers, _orders, cases = [], [], []
        for i in range(n):
            cid = f"c{i + 1:05d}"
            sd = DAYS[int(signup_days[i])]
            signup_at = rand_time(rng, sd, HOURS_ANY)
            exposed = bool(rng.random() < 0.5)
            channel = CHANNELS[int(rng.choice(6, p=ch_exposed if exposed else ch_control))]
            v = float(rng.lognormal(0, 0.5))
            pre = 0.0 if rng.random() < 0.12 else 60 * v * float(rng.lognormal(0, 0.25))
            cost = base_cost[channel] * float(rng.lognormal(0, 0.3))
            converted = bool(rng.random() < (0.55 if exposed else 0.52) + 0.15 * float(np.tanh(np.log(v))))
            first_at = None
            if converted:
                first_at = signup_at + timedelta(seconds=int(min(29.0, rng.exponential(5)) * 86400))
                if first_at > END_DT:
                    converted = False
            c = {"customer_id": cid, "signup_date": sd, "signup_at": signup_at, "channel": channel, "exposed": exposed,
                 "converted": converted, "cost": cost, "pre": pre, "first_at": first_at, "churn": None, "saved": False,
                 "orders": []}
            if converted:
                life = 230 if exposed else 175
                churn = first_at + timedelta(days=float(rng.exponential(life)))
                while churn <= END_DT:
                    if rng.random() < (0.6 if exposed else 0.4):
                        case_t = max(first_at + timedelta(hours=1), churn - timedelta(days=float(rng.uniform(0, 4))))
                        if exposed and rng.random() < 0.55:
                            ch = "social"
                        else:
                            ch = "email" if rng.random() < 0.55 else "phone"
                        answered = rng.random() < {"social": 0.92, "email": 0.85, "phone": 0.97}[ch]
                        saved = answered and rng.random() < {"social": 0.72, "email": 0.45, "phone": 0.55}[ch]
                        intent = "cancel" if rng.random() < 0.65 else "return"
                        cases.append([case_t, cid, ch, intent, answered, saved])
                        if saved:
                            if ch == "social":
                                c["saved"] = True
                            churn = case_t + timedelta(days=float(rng.exponential(life)))
                            continue
                    break
                c["churn"] = churn if churn <= END_DT else None
                stop = min(churn, END_DT)
                amount = 25 + 150 * v * float(rng.lognormal(0, 0.3))
                c["orders"].append((first_at, amount, False))
                if rng.random() < (0.5 if exposed else 0.45):
                    gap = 55 * float(rng.lognormal(0, 0.4))
                    t = first_at
                    while True:
                        t = t + timedelta(seconds=int(rng.exponential(gap) * 86400) + 3600)
                        if t >= stop:
                            break
                        cross = bool(rng.random() < (0.36 if exposed else 0.30))
                        amt = (15 + 70 * v * float(rng.lognormal(0, 0.35))) if cross else \
                              (20 + 110 * v * float(rng.lognormal(0, 0.35)))
                        c["orders"].append((t, amt, cross))
                # other support cases: questions, complaints, returns
                for _ in range(int(rng.poisson(0.3))):
                    case_t = first_at + timedelta(seconds=int(rng.uniform(0, (stop - first_at).total_seconds())))
                    ch = "social" if exposed and rng.random() < 0.5 else ("email" if rng.random() < 0.6 else "phone")
                    intent = ["question", "complaint", "return"][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
                    answered = rng.random() < 0.9
                    saved = intent == "return" and answered and rng.random() < 0.5
                    if saved and ch == "social":
                        c["saved"] = True
                    cases.append([case_t, cid, ch, intent, answered, saved])
            customers.append(c)
        null_rev = {int(i) for i in rng.choice(n, size=60, replace=False)}
        # orders file, ids in time order
        all_orders = [(t, c["customer_id"], amt, cross) for c in customers for (t, amt, cross) in c["orders"]]
        all_orders.sort(key=lambda o: (o[0], o[1]))
        order_rows = [(f"o{i:06d}", cid, ts(t), f2(amt), b(cross)) for i, (t, cid, amt, cross)
                      in enumerate(all_orders, 1)]
        write_csv(self.out / "orders.csv", ["order_id", "customer_id", "ordered_at", "amount", "is_cross_sell"],
                  order_rows)
        rows = []
        for i, c in enumerate(customers):
            window_end = datetime.combine(c["signup_date"], datetime.min.time()) + timedelta(days=180)
            inside = [(round(amt, 2), cross) for (t, amt, cross) in c["orders"] if t < window_end]
            revenue = sum(a for a, _ in inside)
            cross_rev = sum(a for a, cross in inside if cross)
            churned = c["churn"]
            retained = c["converted"] and (churned is None or churned.date() >= c["signup_date"] + timedelta(days=90))
            rows.append((c["customer_id"], ds(c["signup_date"]), c["channel"], b(c["exposed"]), b(c["converted"]),
                         f2(c["cost"]), "" if i in null_rev else f2(revenue), f2(cross_rev), len(inside),
                         f2(c["pre"]), b(retained), ds(churned.date()) if churned else "", b(c["saved"])))
        write_csv(self.out / "customers.csv",
                  ["customer_id", "signup_date", "acquisition_channel", "exposed_to_social", "converted",
                   "acquisition_cost", "revenue", "cross_sell_revenue", "purchases", "pre_period_revenue",
                   "retained_90d", "churned_at", "saved"], rows)
        self.customer_list = customers
        self.cases = cases

    # ------------------------------------------------------------------ leads
    def leads(self) -> None:
        rng = self.rng
        rows = []
        for c in self.customer_list:
            if not c["converted"] or rng.random() >= 0.28:
                continue
            created = c["signup_at"] - timedelta(seconds=int(rng.uniform(0.5, 14) * 86400))
            if created < START_DT:
                created = START_DT + timedelta(seconds=int(rng.uniform(0, (c["signup_at"] - START_DT).total_seconds())))
            camp = campaign_on(created.date(), c["channel"])
            rows.append([created, c["channel"], camp, ts(c["first_at"]), c["customer_id"]])
        n_conv = len(rows)
        src_p = np.array([0.15, 0.17, 0.10, 0.28, 0.15, 0.15])
        day_w = np.array([(1 + 0.4 * trend(d)) * (0.75 if d.weekday() >= 5 else 1.0)
                          * (1 + 0.6 * bool(campaign_on(d))) for d in DAYS])
        for _ in range(int(n_conv * 3)):
            d = DAYS[int(rng.choice(N_DAYS, p=day_w / day_w.sum()))]
            created = rand_time(rng, d, HOURS_ANY)
            src = CHANNELS[int(rng.choice(6, p=src_p))]
            camp = campaign_on(d, src)
            if camp and rng.random() < 0.3:
                camp = ""
            rows.append([created, src, camp, "", ""])
        rows.sort(key=lambda r: (r[0], r[4], r[1]))
        out = [[f"l{i:05d}", ts(r[0]), *r[1:]] for i, r in enumerate(rows, 1)]
        write_csv(self.out / "leads.csv",
                  ["lead_id", "created_at", "source", "campaign", "converted_at", "customer_id"], out)

    # ------------------------------------------------------------------ touchpoints and conversions
    def touchpoints(self) -> None:
        rng = self.rng
        mix_social = np.array([0.2, 0.22, 0.12, 0.2, 0.14, 0.12])
        mix_control = np.array([0.0, 0.0, 0.0, 0.42, 0.28, 0.30])
        rows = []

        def touch(pid, t, ch):
            camp = campaign_on(t.date(), ch)
            if camp and rng.random() < 0.3:
                camp = ""
            cost = 0.0
            if ch == "paid_search":
                cost = float(rng.uniform(0.6, 2.4))
            elif ch in SOCIAL and camp and rng.random() < 0.5:
                cost = float(rng.uniform(0.2, 1.2))
            rows.append((t, pid, ch, camp, cost))

        def journey(pid, anchor, first_channel, mix, k, window_days, after):
            lo = max(START_DT, anchor - timedelta(days=window_days))
            span = max(1, int((anchor - lo).total_seconds()))
            offs = np.sort(rng.integers(0, span, size=k))
            times = [lo + timedelta(seconds=int(o)) for o in offs]
            chans = [first_channel] + [CHANNELS[int(rng.choice(6, p=mix))] for _ in range(k - 1)]
            for t, ch in zip(times, chans, strict=False):
                touch(pid, t, ch)
            if after and rng.random() < 0.1:
                t = anchor + timedelta(seconds=int(rng.uniform(3600, 20 * 86400)))
                if t <= END_DT:
                    touch(pid, t, CHANNELS[int(rng.choice(6, p=mix))])

        conv_rows = []
        for c in self.customer_list:
            anchor = c["first_at"] if c["converted"] else c["signup_at"]
            k = 1 + min(7, int(rng.poisson(0.75)))
            journey(c["customer_id"], anchor, c["channel"], mix_social if c["exposed"] else mix_control, k, 28,
                    c["converted"])
            if c["converted"]:
                t, amt, _ = c["orders"][0]
                conv_rows.append((c["customer_id"], ts(t), f2(amt)))
        day_w = np.array([(1 + 0.5 * trend(d)) * (1 + 0.4 * bool(campaign_on(d))) for d in DAYS])
        n_people = 2 * len(self.customer_list)
        for j in range(n_people):
            d = DAYS[int(rng.choice(N_DAYS, p=day_w / day_w.sum()))]
            anchor = rand_time(rng, d, HOURS_ANY)
            k = 1 + min(7, int(rng.poisson(0.2)))
            first = CHANNELS[int(rng.choice(6, p=mix_social))]
            journey(f"p{j + 1:05d}", anchor, first, mix_social, k, 20, False)
        rows.sort(key=lambda r: (r[0], r[1]))
        write_csv(self.out / "touchpoints.csv", ["person_id", "touched_at", "channel", "campaign", "cost"],
                  [(pid, ts(t), ch, camp, f2(cost)) for t, pid, ch, camp, cost in rows])
        conv_rows.sort(key=lambda r: (r[1], r[0]))
        write_csv(self.out / "conversions.csv", ["person_id", "converted_at", "value"], conv_rows)

    # ------------------------------------------------------------------ support cases, channel spend
    def support_and_spend_files(self) -> None:
        cases = sorted(self.cases, key=lambda r: (r[0], r[1]))
        write_csv(self.out / "support_cases.csv",
                  ["case_id", "customer_id", "opened_at", "channel", "intent", "answered", "saved"],
                  [(f"k{i:05d}", r[1], ts(r[0]), r[2], r[3], b(r[4]), b(r[5])) for i, r in enumerate(cases, 1)])
        spend: dict[tuple[str, str], float] = {}
        for c in self.customer_list:
            key = (ds(c["signup_date"].replace(day=1)), c["channel"])
            spend[key] = spend.get(key, 0.0) + round(c["cost"], 2)
        rows = [(m, ch, f2(spend[(m, ch)])) for m in sorted({k[0] for k in spend}) for ch in CHANNELS
                if (m, ch) in spend]
        write_csv(self.out / "channel_spend.csv", ["month", "channel", "spend"], rows)

    # ------------------------------------------------------------------ trade-fair sign-ups, campaign costs
    def signups_and_costs(self) -> None:
        rng = self.rng
        prefixes_es = ["Ferretería", "Distribuciones", "Talleres", "Comercial", "Panadería", "Logística"]
        prefixes_pl = ["Zakłady", "Hurtownia", "Piekarnia", "Przedsiębiorstwo", "Sklep", "Spółdzielnia"]

        def company(country):
            if country == "PL":
                return f"{prefixes_pl[int(rng.integers(6))]} {LAST_PL[int(rng.integers(len(LAST_PL)))]} Sp. z o.o."
            if country in ("ES", "MX", "AR", "CO"):
                return f"{prefixes_es[int(rng.integers(6))]} {LAST_ES[int(rng.integers(len(LAST_ES)))]} S.L."
            return f"{LAST_ES[int(rng.integers(len(LAST_ES)))]} & {LAST_PL[int(rng.integers(len(LAST_PL)))]} GmbH"

        countries = ["ES", "PL", "MX", "DE", "US", "AR", "CO"]
        c_p = np.array([0.45, 0.25, 0.1, 0.08, 0.05, 0.04, 0.03])
        groups = [  # (n, first day, last day, utm_source, utm_medium, utm_campaign, P(customer), deal scale)
            (24, date(2026, 4, 20), date(2026, 5, 17), "x", "social", "trade-fair-2026", 0.28, 2400),
            (16, date(2026, 4, 20), date(2026, 5, 17), "linkedin", "social", "trade-fair-2026", 0.3, 2900),
            (12, date(2026, 4, 27), date(2026, 5, 17), "newsletter", "email", "trade-fair-2026", 0.25, 2200),
            (9, date(2026, 5, 18), date(2026, 5, 20), "stand", "offline", "trade-fair-2026", 0.35, 2600),
            (30, date(2026, 3, 15), date(2026, 4, 15), "instagram", "social", "spring-sale", 0.15, 900),
            (14, date(2026, 3, 15), date(2026, 4, 15), "google", "cpc", "spring-sale", 0.15, 1000),
            (18, date(2026, 10, 19), date(2026, 10, 31), "x", "social", "black-friday-warmup", 0.1, 1100),
            (55, date(2026, 1, 1), date(2026, 10, 31), "google", "organic", "", 0.2, 1500),
            (25, date(2026, 1, 1), date(2026, 10, 31), "", "", "", 0.15, 1300),
        ]
        rows = []
        for n, a, z, src, med, camp, p_cust, scale in groups:
            span = (z - a).days + 1
            for _ in range(n):
                d = a + timedelta(days=int(rng.integers(span)))
                country = countries[int(rng.choice(7, p=c_p))]
                cust = bool(rng.random() < p_cust)
                deal = f2(scale * float(rng.lognormal(0, 0.35))) if cust else ""
                rows.append([rand_time(rng, d, HOURS_ANY), src, med, camp, company(country), country, b(cust), deal])
        rows.sort(key=lambda r: (r[0], r[4]))
        write_csv(self.out / "signups.csv",
                  ["signup_id", "created_at", "utm_source", "utm_medium", "utm_campaign", "company", "country",
                   "became_customer", "deal_value"],
                  [[f"s{i:04d}", ts(r[0]), *r[1:]] for i, r in enumerate(rows, 1)])

        plans = [  # campaign, first, last, channel, daily ad spend, daily staff hours, hourly rate
            ("spring-sale", date(2026, 3, 15), date(2026, 4, 15), "instagram", 95, 1.5, 38),
            ("spring-sale", date(2026, 3, 15), date(2026, 4, 15), "facebook", 60, 0.75, 38),
            ("spring-sale", date(2026, 3, 15), date(2026, 4, 15), "x", 40, 1.0, 42),
            ("trade-fair-2026", date(2026, 4, 13), date(2026, 5, 20), "x", 95, 1.5, 42),
            ("trade-fair-2026", date(2026, 4, 13), date(2026, 5, 20), "linkedin", 70, 1.0, 48),
            ("black-friday-warmup", date(2026, 10, 19), date(2026, 10, 31), "instagram", 140, 2.0, 38),
            ("black-friday-warmup", date(2026, 10, 19), date(2026, 10, 31), "facebook", 90, 1.0, 38),
            ("black-friday-warmup", date(2026, 10, 19), date(2026, 10, 31), "x", 60, 1.0, 42),
        ]
        rows = []
        for camp, a, z, ch, spend, hours, rate in plans:
            d = a
            while d <= z:
                wk = 0.6 if d.weekday() >= 5 else 1.0
                s = spend * wk * float(rng.lognormal(0, 0.2))
                h = hours * (0.3 if d.weekday() >= 5 else 1.0)
                if camp == "trade-fair-2026" and FAIR[0] <= d <= FAIR[1]:
                    h += 8.0 if ch == "x" else 4.0
                    s *= 1.5
                h = round(float(h * rng.uniform(0.8, 1.2)) * 4) / 4
                rows.append((ds(d), camp, ch, f2(s), f"{h:.2f}", f2(rate)))
                d += timedelta(days=1)
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        write_csv(self.out / "campaign_costs.csv",
                  ["date", "campaign", "channel", "ad_spend", "staff_hours", "hourly_rate"], rows)


    # ------------------------------------------------------------------ a self-selected exposure
    def social_study(self) -> None:
        """customers who chose to follow the brand on social vs those who did not, with the pre-exposure
        covariates that explain who follows, and a randomised e-mail test with two variants.

        Its own random stream (``default_rng([SEED, 24])``), drawn after every other file, so the other
        files stay byte-identical. Known truth (docs/control-groups.md): following raises 90-day spend
        by €8 and the chance to buy again by 4 points for every follower (so the ATT is €8 and 4
        points), and multiplies the churn hazard by 0.8; the naive difference is much larger because
        younger, more active, bigger spenders follow more often. The pre-periods move in parallel."""
        rng = np.random.default_rng([SEED, 24])
        n = 1500  # the example data stays under 4 MB (tests/test_example_data.py)
        regions = ("north", "south", "east", "west")
        rows = []
        for i in range(n):
            signup = START + timedelta(days=int(rng.integers(0, 212)))  # January to July
            age = int(np.clip(rng.normal(40, 12), 18, 80))
            region = regions[int(rng.choice(4, p=[0.35, 0.30, 0.20, 0.15]))]
            tenure = int(rng.gamma(2.0, 250.0))
            activity = float(rng.lognormal(0.0, 0.5))
            orders_before = int(rng.poisson(1.5 * activity))
            spend_before = float(round(20.0 * orders_before + 60.0 * activity * rng.lognormal(0.0, 0.3)))
            z = (-0.4 - 0.04 * (age - 40) + 0.25 * orders_before + 0.006 * (spend_before - 100.0)
                 + {"north": 0.0, "south": 0.4, "east": -0.3, "west": 0.2}[region] + 0.0002 * (tenure - 500))
            follows = bool(rng.random() < 1.0 / (1.0 + np.exp(-z)))
            level = 30.0 + 0.5 * spend_before + 6.0 * orders_before - 0.2 * (age - 40)
            drift = 2.0  # every customer's spend drifts up alike from quarter to quarter (parallel trends)
            spend_q1 = round(max(0.0, level - 2 * drift + float(rng.normal(0, 12))))
            spend_q2 = round(max(0.0, level - drift + float(rng.normal(0, 12))))
            spend_after = round(max(0.0, level + (8.0 if follows else 0.0) + float(rng.normal(0, 12))))
            p_again = float(np.clip(0.15 + 0.05 * orders_before + 0.0008 * (spend_before - 100.0)
                                    + (0.04 if follows else 0.0), 0.02, 0.95))
            bought_again = bool(rng.random() < p_again)
            hazard = (1.0 / 260.0) * np.exp(-0.15 * orders_before + 0.01 * (age - 40)) * (0.8 if follows else 1.0)
            life = float(rng.exponential(1.0 / hazard))
            followed = (END - signup).days
            churned = life <= followed
            variant = ("none", "discount", "story")[int(rng.integers(0, 3))]
            p_buy = 0.10 + 0.06 * (variant == "discount") + 0.01 * (variant == "story") + 0.02 * min(orders_before, 5)
            bought_30d = bool(rng.random() < p_buy)
            rows.append((f"s{i + 1:04d}", ds(signup), age, region, tenure, orders_before, int(spend_before),
                         b(follows), spend_q1, spend_q2, spend_after, b(bought_again),
                         int(np.floor(life)) if churned else followed, b(churned), variant, b(bought_30d)))
        write_csv(self.out / "social_study.csv",
                  ["customer_id", "signup_date", "age", "region", "tenure_days", "orders_before", "spend_before",
                   "follows_brand", "spend_q1", "spend_q2", "spend_after", "bought_again", "days_observed",
                   "churned", "email_variant", "bought_in_30d"], rows)


# ----------------------------------------------------------------------------- the warehouse
WAREHOUSE = "warehouse.duckdb"
WAREHOUSE_TABLES = {
    # table: (csv file, SELECT list with the warehouse's types, ORDER BY)
    "orders": ("orders.csv", "order_id, customer_id, CAST(ordered_at || '+00' AS TIMESTAMPTZ) AS ordered_at, "
               "CAST(amount AS DECIMAL(10, 2)) AS amount, CAST(is_cross_sell AS BOOLEAN) AS is_cross_sell",
               "order_id"),
    "customers": ("customers.csv", "customer_id, CAST(signup_date AS DATE) AS signup_date, acquisition_channel, "
                  "CAST(exposed_to_social AS BOOLEAN) AS exposed_to_social, "
                  "CAST(acquisition_cost AS DECIMAL(10, 2)) AS acquisition_cost", "customer_id"),
    "leads": ("leads.csv", "lead_id, CAST(created_at AS TIMESTAMP) AS created_at, source, campaign, "
              "CAST(converted_at AS TIMESTAMP) AS converted_at, customer_id", "lead_id"),
    "channel_spend": ("channel_spend.csv", "CAST(month AS DATE) AS month, channel, "
                      "CAST(spend AS DECIMAL(12, 2)) AS spend", "month, channel"),
}
"""The example warehouse: four of the CSV files as typed tables (instants as TIMESTAMPTZ, naive UTC
times as TIMESTAMP, money as DECIMAL), for specs/examples/warehouse_sales.yaml."""


def build_warehouse(out: Path) -> None:
    """Write ``warehouse.duckdb`` from the CSV files (skipped, with a note, without DuckDB).

    DuckDB files are not byte-reproducible (they carry free blocks and checksums), so
    tests/test_example_data.py compares the tables' contents with the CSV files instead.
    """
    try:
        import duckdb
    except ImportError:
        print(f"duckdb is not installed: {WAREHOUSE} not written (pip install duckdb)")
        return
    tmp = out / f".{WAREHOUSE}.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for table, (csv_name, columns, order) in WAREHOUSE_TABLES.items():
            source = str(out / csv_name).replace("'", "''")
            con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM read_csv('{source}', all_varchar = true, "
                        f"header = true) ORDER BY {order}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    tmp.replace(out / WAREHOUSE)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: this script's folder)")
    args = ap.parse_args(argv)
    Generator(args.out).run()


if __name__ == "__main__":
    main()
