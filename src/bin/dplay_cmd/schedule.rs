//! `dplay schedule`: the tables of a process, discrete or continuous.

use clap::Args;

use diffusion_playground::error::{Error, Result};
use diffusion_playground::process::{FlowProcess, Sde, SubVpSde, VeConfig, VeSde, VpSde};
use diffusion_playground::schedule::ScheduleConfig;

use super::sample::ProcessArg;
use super::ScheduleArg;

#[derive(Args)]
pub(crate) struct ScheduleArgs {
    /// vp: DDPM's β tables (discrete) or the VP SDE; ve: NCSN's σ levels or the VE SDE;
    /// sub-vp: the sub-VP SDE (with --continuous).
    #[arg(long, value_enum, default_value_t = ProcessArg::Vp)]
    process: ProcessArg,
    /// Print the continuous-time SDE (a(t), s(t), f(t), g(t) on a grid of t) instead of the
    /// discrete tables.
    #[arg(long)]
    continuous: bool,
    #[arg(long, value_enum, default_value_t = ScheduleArg::Linear)]
    schedule: ScheduleArg,
    /// Diffusion steps T (vp, flow), or grid points on [0, 1] (--continuous).
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// VP: β(t) from beta-min to beta-max; the discrete chain β_i from beta-min/T to
    /// beta-max/T (score_sde's; the defaults give DDPM's 1e-4 to 0.02 at T = 1000).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    beta_min: f64,
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
    beta_max: f64,
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    sigma_min: f64,
    #[arg(long, default_value_t = 50.0, allow_negative_numbers = true)]
    sigma_max: f64,
    /// NCSN levels L (ve, discrete).
    #[arg(long, default_value_t = 10)]
    levels: usize,
    /// Print JSON (every table) instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Indices of a short summary of a table of length `len`.
fn summary_rows(len: usize) -> Vec<usize> {
    let mut rows = vec![0, 1, len / 4, len / 2, 3 * len / 4, len - 1];
    rows.retain(|&i| i < len);
    rows.dedup();
    rows
}

pub(crate) fn schedule(a: ScheduleArgs) -> Result<()> {
    if a.continuous {
        return sde_table(&a);
    }
    match a.process {
        ProcessArg::Vp => ddpm_tables(&a),
        ProcessArg::Ve => {
            let ve = VeConfig {
                sigma_min: a.sigma_min,
                sigma_max: a.sigma_max,
                levels: a.levels,
            }
            .build()?;
            if a.json {
                let v = serde_json::json!({ "config": ve.config(), "sigmas": ve.sigmas() });
                println!("{v}");
            } else {
                println!("{:>6} {:>12}", "t", "sigma");
                for (t, s) in ve.sigmas().iter().enumerate() {
                    println!("{t:>6} {s:>12.6e}");
                }
            }
            Ok(())
        }
        ProcessArg::SubVp => Err(Error::invalid(
            "sub-VP is a continuous-time process; add --continuous",
        )),
        ProcessArg::Flow => flow_table(&a),
    }
}

/// The flow path's `t_i`, `a_t = 1 − t_i` and `s_t = t_i` on `--steps` steps.
fn flow_table(a: &ScheduleArgs) -> Result<()> {
    let flow = FlowProcess::new(a.steps)?;
    diffusion_playground::budget::check_tables("the flow path's table", a.steps)?;
    let t: Vec<f64> = (0..a.steps).map(|i| flow.t(i)).collect();
    if a.json {
        let a_t: Vec<f64> = t.iter().map(|t| 1.0 - t).collect();
        println!(
            "{}",
            serde_json::json!({ "t": t, "mean_coef": a_t, "std": t })
        );
    } else {
        println!("{:>6} {:>12} {:>12}", "i", "t", "a_t");
        for (i, t) in t.iter().enumerate() {
            println!("{i:>6} {t:>12.6} {:>12.6}", 1.0 - t);
        }
    }
    Ok(())
}

fn sde_table(a: &ScheduleArgs) -> Result<()> {
    if a.steps < 2 {
        return Err(Error::invalid(
            "--steps (grid points on [0, 1]) must be at least 2",
        ));
    }
    let sde: Box<dyn Sde> = match a.process {
        ProcessArg::Vp => Box::new(VpSde::new(a.beta_min, a.beta_max)?),
        ProcessArg::SubVp => Box::new(SubVpSde::new(a.beta_min, a.beta_max)?),
        ProcessArg::Ve => Box::new(VeSde::new(a.sigma_min, a.sigma_max)?),
        ProcessArg::Flow => {
            return Err(Error::invalid(
                "the flow path has no SDE here; drop --continuous",
            ))
        }
    };
    let ts: Vec<f64> = (0..a.steps)
        .map(|i| i as f64 / (a.steps - 1) as f64)
        .collect();
    let col = |f: &dyn Fn(f64) -> f64| ts.iter().map(|&t| f(t)).collect::<Vec<f64>>();
    let mean = col(&|t| sde.marginal(t).mean_coef);
    let std = col(&|t| sde.marginal(t).std);
    let drift = col(&|t| sde.drift_coef(t));
    let g = col(&|t| sde.diffusion(t));
    if a.json {
        let v = serde_json::json!({
            "process": format!("{:?}", a.process),
            "t": ts, "mean_coef": mean, "std": std, "drift_coef": drift, "diffusion": g,
        });
        println!("{v}");
    } else {
        println!(
            "{:>8} {:>12} {:>12} {:>12} {:>12}",
            "t", "mean_coef", "std", "f(t)", "g(t)"
        );
        for i in summary_rows(ts.len()) {
            println!(
                "{:>8.4} {:>12.6e} {:>12.6e} {:>12.6e} {:>12.6e}",
                ts[i], mean[i], std[i], drift[i], g[i]
            );
        }
    }
    Ok(())
}

fn ddpm_tables(a: &ScheduleArgs) -> Result<()> {
    let s = ScheduleConfig {
        kind: a.schedule.into(),
        ..ScheduleConfig::score_sde(a.beta_min, a.beta_max, a.steps)
    }
    .build()?;
    if a.json {
        let v = serde_json::json!({
            "config": s.config,
            "betas": s.betas,
            "alphas_cumprod": s.alphas_cumprod,
            "posterior_variance": s.posterior_variance,
            "posterior_mean_coef1": s.posterior_mean_coef1,
            "posterior_mean_coef2": s.posterior_mean_coef2,
        });
        println!("{v}");
    } else {
        println!(
            "{:>6} {:>12} {:>12} {:>12}",
            "t", "beta", "alpha_bar", "beta_tilde"
        );
        for i in summary_rows(s.len()) {
            println!(
                "{i:>6} {:>12.6e} {:>12.6e} {:>12.6e}",
                s.betas[i], s.alphas_cumprod[i], s.posterior_variance[i]
            );
        }
    }
    Ok(())
}
