//! Training objectives: the four kinds of score matching (explicit, implicit, sliced,
//! denoising), NCSN's multi-level DSM, DDPM's L_simple and its variational bound, all on one
//! score-network interface ([`ScoreNet`]) and behind one [`Objective`] enum.

pub mod ddpm;
pub mod dsm;
pub mod esm;
pub mod ism;
pub mod levels;
pub mod ncsn;
pub mod net;
pub mod objective;
pub mod ssm;
pub mod vlb;

pub use ddpm::l_simple;
pub use dsm::dsm_loss;
pub use esm::{esm_loss, mixture_score};
pub use ism::ism_loss;
pub use levels::{LevelCriterion, LevelObjective};
pub use ncsn::ncsn_loss;
pub use net::ScoreNet;
pub use objective::{Criterion, Objective};
pub use ssm::{ssm_loss, Projection};
