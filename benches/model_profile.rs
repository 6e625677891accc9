//! Where a shipped model's time goes in tract, and what exact settings save.
//!
//!     cargo bench --bench model_profile            # accurate
//!     EARMARK_PROFILE_MODEL=fast cargo bench --bench model_profile
//!
//! The input is the real log-mel of the classify bench's 30-s clip
//! (`benches/data/nebula-30s.ogg`: 10 patches). For each way of building the
//! plan it prints the thread CPU time per 30-s clip (median of runs) and the
//! largest difference of any output value from the shipped build, so a
//! setting is only "exact" when that difference stays under 1e-5. Then one
//! profile of the shipped build: time per op kind and the costliest nodes with
//! their output shapes (tract's own evaluation loop, timed per node).
//!
//! `EARMARK_PROFILE_BACKBONE=target/train/musicnn_vgg.onnx` adds a row for a
//! bare backbone graph (export_musicnn.py), timed the way the engine builds.
//!
//! Not a criterion bench: a profile is a table, not a distribution.
#![allow(clippy::unwrap_used)] // a bench that cannot unwrap has failed

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use earmark::analysis::track_features;
use earmark::audio::AnalysisPlan;
use earmark::model::load_shipped;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::SimpleState;

#[path = "common/thread_cpu.rs"]
#[allow(dead_code)] // the criterion measurement in it is not used here
mod thread_cpu;
use thread_cpu::thread_cpu_ns;

const RUNS: usize = 7;

/// How the ONNX graph becomes a plan.
#[derive(Clone, Copy, Debug)]
enum Build {
    /// What the engine does: a symbolic batch dimension, one patch per call.
    SymbolicBatchOne,
    /// The batch fixed at load, one patch per call.
    ConcreteBatchOne,
    /// The batch fixed at the clip's 10 patches, one call per clip.
    ConcreteBatchClip,
    /// A symbolic batch, all the clip's patches in one call.
    SymbolicBatchClip,
}

impl Build {
    fn per_call(self, patches: usize) -> usize {
        match self {
            Build::SymbolicBatchOne | Build::ConcreteBatchOne => 1,
            Build::ConcreteBatchClip | Build::SymbolicBatchClip => patches,
        }
    }
}

fn onnx_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("models/{name}/genre.onnx"))
}

fn plan(
    onnx: &std::path::Path,
    build: Build,
    frames: usize,
    mels: usize,
    patches: usize,
    outputs: &[&str],
) -> Arc<TypedRunnableModel> {
    let mut model = tract_onnx::onnx().model_for_path(onnx).unwrap();
    let batch = match build {
        Build::SymbolicBatchOne | Build::SymbolicBatchClip => model.sym("batch").to_dim(),
        Build::ConcreteBatchOne => 1.to_dim(),
        Build::ConcreteBatchClip => patches.to_dim(),
    };
    let fact = f32::fact(tvec![batch, frames.to_dim(), mels.to_dim()]);
    model.set_input_fact(0, fact.into()).unwrap();
    model
        .select_outputs_by_name(outputs.iter().copied())
        .unwrap();
    model.into_optimized().unwrap().into_runnable().unwrap()
}

/// All outputs of all patches, flattened, and the thread CPU ns it took.
fn run_clip(
    plan: &Arc<TypedRunnableModel>,
    data: &[f32],
    per_call: usize,
    frames: usize,
    mels: usize,
) -> (Vec<f32>, u64) {
    let seg = frames * mels;
    let t0 = thread_cpu_ns();
    let mut outs: Vec<Vec<f32>> = Vec::new();
    for chunk in data.chunks(seg * per_call) {
        let n = chunk.len() / seg;
        let input = Tensor::from_shape(&[n, frames, mels], chunk).unwrap();
        let result = plan.run(tvec![input.into()]).unwrap();
        outs.push(
            result
                .iter()
                .flat_map(|t| {
                    t.to_plain_array_view::<f32>()
                        .unwrap()
                        .iter()
                        .copied()
                        .collect::<Vec<_>>()
                })
                .collect(),
        );
    }
    let spent = thread_cpu_ns() - t0;
    // Order as "per patch, every output", whatever the batch size was.
    (outs.concat(), spent)
}

fn reorder_by_patch(flat: &[f32], per_call: usize, patches: usize, widths: &[usize]) -> Vec<f32> {
    let row: usize = widths.iter().sum();
    let mut by_patch = vec![0.0f32; patches * row];
    let mut offset = 0;
    let mut patch0 = 0;
    while patch0 < patches {
        let n = per_call.min(patches - patch0);
        let mut col = 0;
        for &w in widths {
            for p in 0..n {
                let src = &flat[offset + p * w..offset + (p + 1) * w];
                let dst = (patch0 + p) * row + col;
                by_patch[dst..dst + w].copy_from_slice(src);
            }
            offset += n * w;
            col += w;
        }
        patch0 += n;
    }
    by_patch
}

fn median(mut v: Vec<u64>) -> f64 {
    v.sort_unstable();
    v[v.len() / 2] as f64 / 1e6
}

fn profile(plan: &Arc<TypedRunnableModel>, input: Tensor) {
    let mut by_kind: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut by_node: Vec<(f64, String)> = Vec::new();
    for round in 0..3 {
        let mut state = SimpleState::new(plan).unwrap();
        let mut timings: Vec<(f64, String, String)> = Vec::new();
        state
            .run_plan_with_eval(
                tvec![input.clone().into()],
                |ctx, op_state, node, inputs| {
                    let t0 = Instant::now();
                    let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                    let ms = t0.elapsed().as_secs_f64() * 1e3;
                    let shape = out
                        .as_ref()
                        .ok()
                        .and_then(|o| o.first().map(|t| format!("{:?}", t.shape())))
                        .unwrap_or_default();
                    timings.push((
                        ms,
                        node.op().name().to_string(),
                        format!("{} {shape}", node.name),
                    ));
                    out
                },
            )
            .unwrap();
        if round == 0 {
            continue; // warm-up
        }
        for (ms, kind, label) in timings {
            let e = by_kind.entry(kind.clone()).or_default();
            e.0 += ms / 2.0;
            e.1 += 1;
            match by_node
                .iter_mut()
                .find(|(_, l)| *l == format!("{kind:<14} {label}"))
            {
                Some(n) => n.0 += ms / 2.0,
                None => by_node.push((ms / 2.0, format!("{kind:<14} {label}"))),
            }
        }
    }
    let total: f64 = by_kind.values().map(|(ms, _)| ms).sum();
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    println!("\nper op kind (one call, wall ms; {total:.1} ms in all):");
    for (kind, (ms, n)) in kinds {
        let nodes = n / 2;
        println!(
            "  {kind:<24} {ms:>8.2} ms {:>5.1} %  ({nodes} nodes)",
            100.0 * ms / total
        );
    }
    by_node.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("\ncostliest nodes (op, node, output shape):");
    for (ms, label) in by_node.iter().take(15) {
        println!("  {ms:>8.2} ms  {label}");
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let name = std::env::var("EARMARK_PROFILE_MODEL").unwrap_or_else(|_| "accurate".into());
    let model = load_shipped(&name).unwrap();
    let card = model.card().clone();
    let (frames, mels) = (card.segment.frames, card.features.n_mels);
    let clip = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/data/nebula-30s.ogg");
    let features = track_features(
        &clip,
        model.extractor(),
        &AnalysisPlan::default(),
        &card.segment,
    )
    .unwrap();
    let data = features.segment_batch(&card.segment);
    let patches = data.len() / (frames * mels);
    let mut outputs = vec![card.output.name.as_str()];
    let mut widths = vec![card.labels.len()];
    if let Some(e) = &card.embedding {
        outputs.push(e.name.as_str());
        widths.push(e.dim);
    }
    println!(
        "model {name}: {patches} patches of {frames}×{mels} per 30-s clip, outputs {outputs:?}; \
         thread CPU per clip, median of {RUNS} runs"
    );

    let mut reference: Option<Vec<f32>> = None;
    let mut engine_plan = None;
    // EARMARK_PROFILE_BEFORE=old.onnx adds the graph before optimise_graph.py's
    // rewrites (e.g. `git show REV:models/accurate/genre.onnx`), built both ways.
    let before = std::env::var_os("EARMARK_PROFILE_BEFORE").map(PathBuf::from);
    let shipped = onnx_path(&name);
    let mut rows: Vec<(String, PathBuf, Build)> = Vec::new();
    if let Some(b) = &before {
        for build in [Build::SymbolicBatchOne, Build::ConcreteBatchOne] {
            rows.push((format!("before: {build:?}"), b.clone(), build));
        }
    }
    for build in [
        Build::SymbolicBatchOne,
        Build::ConcreteBatchOne,
        Build::SymbolicBatchClip,
        Build::ConcreteBatchClip,
    ] {
        rows.push((format!("{build:?}"), shipped.clone(), build));
    }
    for (label, onnx, build) in rows {
        let p = plan(&onnx, build, frames, mels, patches, &outputs);
        let per_call = build.per_call(patches);
        let (first, _) = run_clip(&p, &data, per_call, frames, mels);
        let times: Vec<u64> = (0..RUNS)
            .map(|_| run_clip(&p, &data, per_call, frames, mels).1)
            .collect();
        let got = reorder_by_patch(&first, per_call, patches, &widths);
        let diff = match &reference {
            None => 0.0,
            Some(r) => r
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max),
        };
        println!(
            "  {label:<28} {:>9.1} ms   max |Δ| vs the first row {diff:.2e}",
            median(times)
        );
        if reference.is_none() {
            reference = Some(got);
        }
        if matches!(build, Build::ConcreteBatchOne) && onnx == shipped {
            engine_plan = Some(p);
        }
    }

    // EARMARK_PROFILE_BACKBONE=b.onnx times a bare backbone from export_musicnn.py (its
    // `penultimate`, built as the engine builds a model) on the same patches: what a head on
    // that backbone's embedding would add to the model's cost.
    if let Some(b) = std::env::var_os("EARMARK_PROFILE_BACKBONE").map(PathBuf::from) {
        let p = plan(
            &b,
            Build::ConcreteBatchOne,
            frames,
            mels,
            patches,
            &["penultimate"],
        );
        run_clip(&p, &data, 1, frames, mels);
        let times: Vec<u64> = (0..RUNS)
            .map(|_| run_clip(&p, &data, 1, frames, mels).1)
            .collect();
        println!(
            "  {:<28} {:>9.1} ms   (backbone alone, its penultimate)",
            b.file_name().unwrap_or_default().to_string_lossy(),
            median(times)
        );
    }

    let one = Tensor::from_shape(&[1, frames, mels], &data[..frames * mels]).unwrap();
    println!("\nprofile of ConcreteBatchOne (what the engine builds):");
    profile(&engine_plan.unwrap(), one);
}
