//! End-to-end cost of classifying one 30-s clip (decode → resample → log-mel →
//! model → combine), for each shipped model, on one thread: tract is built
//! without its multithreaded kernels and `GenreModel::analyse` runs on the
//! calling thread.
//!
//!     cargo bench --bench classify
//!
//! Two measurements of the same work: `classify_30s_clip` is wall-clock time
//! (what a user waits on an idle core), `classify_30s_clip_cpu` is the CPU time
//! of the benchmark thread (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), which
//! other processes competing for the cores barely disturb — on a shared machine
//! it is the steadier figure.
//!
//! The clip (`benches/data/nebula-30s.ogg`) is shaped like a GTZAN clip: mono
//! 22 050 Hz Ogg Vorbis, 30 s (10 patches of 187 frames).
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use earmark::analysis::track_features;
use earmark::audio::AnalysisPlan;
use earmark::model::{MODEL_NAMES, load_shipped};

#[path = "common/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpuTime;

fn clip() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/data/nebula-30s.ogg")
}

fn run_group<M: Measurement>(mut group: BenchmarkGroup<'_, M>) {
    let clip = clip();
    let plan = AnalysisPlan::default();
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for name in MODEL_NAMES {
        let model = load_shipped(name).expect("shipped model");
        let a = model.analyse(&clip, &plan).expect("analyse the clip");
        assert_eq!(a.prediction.segments.len(), 10);
        group.bench_function(*name, |b| {
            b.iter(|| black_box(model.analyse(black_box(&clip), &plan).unwrap()))
        });
    }
    // The shared part: decode + resample + log-mel, without a model.
    let model = load_shipped("fast").expect("shipped model");
    group.bench_function("features_only", |b| {
        b.iter(|| {
            black_box(
                track_features(&clip, model.extractor(), &plan, &model.card().segment).unwrap(),
            )
        })
    });
    group.finish();
}

fn classify(c: &mut Criterion) {
    run_group(c.benchmark_group("classify_30s_clip"));
}

fn classify_cpu(c: &mut Criterion<ThreadCpuTime>) {
    run_group(c.benchmark_group("classify_30s_clip_cpu"));
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_model");
    group.sample_size(10);
    for name in MODEL_NAMES {
        group.bench_function(*name, |b| b.iter(|| black_box(load_shipped(name).unwrap())));
    }
    group.finish();
}

criterion_group!(benches, classify, load);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = classify_cpu
}
criterion_main!(benches, cpu);
