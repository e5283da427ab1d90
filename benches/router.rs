//! Router micro-benchmarks: pattern parsing, and lookups in routers of 10, 100, 1,000 and
//! 10,000 routes.
//!
//! ```text
//! cargo bench --bench router                 # everything, about 2 minutes
//! cargo bench --bench router -- --quick      # a rough pass in seconds
//! cargo bench --bench router -- lookup_captures
//! ```
//!
//! Every router holds the same six `/users` and `/assets` routes the lookups aim at, plus
//! filler routes shaped like a real API (one literal prefix per resource, eight routes per
//! resource, with `int`, `str` and `path` captures), so a lookup meets siblings at every
//! level. After the run, a summary prints each lookup's time with N routes as a multiple
//! of its time with 10 (issue 5 asks for at most 1.5× at 1,000 routes).

use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use bareasgi::{HttpRequest, HttpRouter, Resolution};
use criterion::{BatchSize, BenchmarkId, Criterion};
use http::Method;

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// The routes every router has; the lookups below aim at them.
const FIXED: [&str; 6] = [
    "/users",
    "/users/me/settings",
    "/users/{id:int}",
    "/users/{id:int}/posts",
    "/users/{id:int}/posts/{slug}",
    "/assets/{rest:path}",
];

/// The lookups: (bench group, path, the pattern it must resolve to).
const LOOKUPS: [(&str, &str, Option<&str>); 4] = [
    (
        "lookup_static",
        "/users/me/settings",
        Some("/users/me/settings"),
    ),
    (
        "lookup_captures",
        "/users/42/posts/hello-world",
        Some("/users/{id:int}/posts/{slug}"),
    ),
    (
        "lookup_path",
        "/assets/css/theme/site.min.css",
        Some("/assets/{rest:path}"),
    ),
    ("lookup_not_found", "/users/42/comments/7", None),
];

async fn noop(_req: HttpRequest) -> &'static str {
    ""
}

/// Filler route `k`: resource `k / 8`, one of eight shapes.
fn filler(k: usize) -> String {
    let r = k / 8;
    match k % 8 {
        0 => format!("/res{r}"),
        1 => format!("/res{r}/{{id:int}}"),
        2 => format!("/res{r}/{{id:int}}/edit"),
        3 => format!("/res{r}/{{id:int}}/items/{{item}}"),
        4 => format!("/res{r}/search/{{term}}"),
        5 => format!("/res{r}/static/page"),
        6 => format!("/res{r}/{{id:int}}/items/{{item}}/history"),
        _ => format!("/res{r}/files/{{rest:path}}"),
    }
}

fn router_with(total: usize) -> HttpRouter {
    let mut router = HttpRouter::new();
    for pattern in FIXED {
        router.add(["GET"], pattern, noop);
    }
    for k in 0..total - FIXED.len() {
        router.add(["GET"], &filler(k), noop);
    }
    assert_eq!(router.len(), total);
    router
}

fn pattern_of(resolution: &Resolution<'_>) -> Option<String> {
    match resolution {
        Resolution::Found { route, .. } => Some(route.pattern().to_owned()),
        _ => None,
    }
}

fn parse(c: &mut Criterion) {
    // The pattern parser is private; `try_add` on an empty router is parse plus one insert.
    let mut group = c.benchmark_group("parse");
    let patterns = [
        ("static", "/users/me/settings"),
        ("captures", "/users/{id:int}/posts/{slug}"),
        ("path", "/assets/{rest:path}"),
        (
            "long",
            "/api/v1/orgs/{org}/repos/{repo:str}/commits/{sha}/files/{rest:path}",
        ),
    ];
    for (name, pattern) in patterns {
        group.bench_function(BenchmarkId::new("try_add", name), |b| {
            b.iter_batched(
                HttpRouter::new,
                |mut router| {
                    router.try_add(["GET"], black_box(pattern), noop).unwrap();
                    router
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    group.bench_function("1000_routes", |b| b.iter(|| router_with(black_box(1_000))));
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let routers: Vec<(usize, HttpRouter)> = SIZES.iter().map(|&n| (n, router_with(n))).collect();
    for (group_name, path, expected) in LOOKUPS {
        let mut group = c.benchmark_group(group_name);
        for (n, router) in &routers {
            let resolved = router.resolve(&Method::GET, path);
            assert_eq!(
                pattern_of(&resolved).as_deref(),
                expected,
                "{path} with {n} routes"
            );
            group.bench_with_input(BenchmarkId::from_parameter(n), router, |b, router| {
                b.iter(|| router.resolve(black_box(&Method::GET), black_box(path)));
            });
        }
        group.finish();
    }
}

/// Where criterion writes its results (the same rules as criterion's own).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("criterion")
}

/// Criterion's estimate (slope if there is one, else mean) in nanoseconds, if this run wrote it.
fn estimate(group: &str, id: usize, since: SystemTime) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(id.to_string())
        .join("new")
        .join("estimates.json");
    if fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).ok()?).ok()?;
    ["slope", "mean"]
        .iter()
        .find_map(|key| json.get(key)?.get("point_estimate")?.as_f64())
}

/// Prints each lookup's time against its time with 10 routes.
fn summary(since: SystemTime) {
    let mut lines = Vec::new();
    for (group, _, _) in LOOKUPS {
        let Some(base) = estimate(group, SIZES[0], since) else {
            continue;
        };
        let mut line = format!("{group:<17} 10: {base:>7.1} ns");
        for &n in &SIZES[1..] {
            if let Some(time) = estimate(group, n, since) {
                line.push_str(&format!("   {n}: {time:>7.1} ns ({:.2}x)", time / base));
            }
        }
        lines.push(line);
    }
    if !lines.is_empty() {
        println!("\nLookup time by router size, as a multiple of the time with 10 routes");
        println!("(issue 5: lookup_captures at 1000 routes within 1.5x of 10 routes):");
        for line in lines {
            println!("  {line}");
        }
    }
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    parse(&mut criterion);
    lookups(&mut criterion);
    criterion.final_summary();
    summary(started);
}
