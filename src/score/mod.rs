//! Training objectives: the four kinds of score matching (explicit, implicit, sliced,
//! denoising), NCSN's multi-level DSM, DDPM's L_simple and its variational bound, all on one
//! score-network interface ([`ScoreNet`]) and one [`Objective`]: a [`Loss`] on a process's levels.

pub mod ddpm;
pub mod esm;
pub mod ism;
pub mod levels;
pub mod ncsn;
pub mod net;
pub mod objective;
pub mod ssm;
pub mod vlb;

pub use ddpm::l_simple;
pub use esm::mixture_score;
pub use levels::Loss;
pub use net::ScoreNet;
pub use objective::{Criterion, Objective, Slicing};
pub use ssm::Projection;
