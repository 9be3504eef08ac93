//! The page's data sets: the two mixtures shipped in `data/`, the 2-D toy sets, a user's drawn
//! points or CSV file, and the sample-quality measures against them.

use serde::Serialize;

use super::{to_f32, Change, Session};
use crate::data::{GaussianMixture, PointSet, Toy2d};
use crate::error::Error;
use crate::metrics;
use crate::noise;
use crate::train::{DataSpec, TrainData};

/// The default mixture (the shipped model's training data) and the seeds' ⅕/⅘ mixture.
const MIXTURE3: &str = include_str!("../../data/mixture3.json");
const SEEDS: &str = include_str!("../../data/seeds_two_modes.json");

/// The origin of a drawing, in the model card and the caption.
const DRAWN: &str = "drawn points";
/// At most this many points on each side of the energy distance (its cost is quadratic).
const ENERGY_POINTS: usize = 1000;
/// The fixed stream the energy distance's data sample is drawn from.
const ENERGY_SEED: u64 = 0xe7e5_91d5;

/// What the page needs to know about the current data set.
#[derive(Serialize)]
struct DataInfo {
    /// "mixture", "toy" or "points".
    kind: &'static str,
    /// A short description for captions.
    label: String,
    /// The mixture weights π_k and means μ_k, where the data is a mixture (its exact score is
    /// then known).
    weights: Option<Vec<f64>>,
    means: Option<Vec<Vec<f64>>>,
    /// The number of points of a point set.
    points: Option<usize>,
    /// The largest |coordinate| over the points (a point set) or over 2000 draws: where to look.
    extent: f64,
}

fn named(name: &str) -> Result<TrainData, Error> {
    Ok(match name {
        "mixture3" => GaussianMixture::from_json(MIXTURE3, "mixture3.json")?.into(),
        "seeds" => GaussianMixture::from_json(SEEDS, "seeds_two_modes.json")?.into(),
        toy => toy
            .parse::<Toy2d>()
            .map_err(|_| {
                Error::invalid(format!(
                    "unknown data set '{name}' (mixture3, seeds, {})",
                    Toy2d::ALL.map(|t| t.name()).join(", ")
                ))
            })?
            .into(),
    })
}

/// The named data set (the catalogue's) a model card's data is, if it is one.
pub fn named_for(spec: &DataSpec) -> Option<(&'static str, TrainData)> {
    crate::catalogue::catalogue()
        .datasets
        .iter()
        .filter_map(|d| Some((d.kind, named(d.kind).ok()?)))
        .find(|(kind, data)| data.spec(kind) == *spec)
}

/// The page draws in the plane: points must have two coordinates.
fn check_2d(points: &PointSet, origin: &str) -> Result<(), Error> {
    if points.dim() != 2 {
        return Err(Error::invalid(format!(
            "{origin} has {} columns; the playground trains on 2-D points (two columns: x, y)",
            points.dim()
        )));
    }
    Ok(())
}

impl Session {
    pub(super) fn set_train_data(&mut self, data: TrainData, origin: &str) {
        self.data = data.mixture().cloned();
        self.dataset = Some(data);
        self.data_origin = origin.to_string();
        self.changed(Change::Data);
    }

    pub fn train_data(&self) -> Result<&TrainData, Error> {
        self.dataset
            .as_ref()
            .ok_or_else(|| Error::invalid("choose a data set first"))
    }

    /// The data set's kind ("mixture", "toy" or "points") and a short description.
    fn describe_data(&self) -> Option<(&'static str, String)> {
        Some(match self.dataset.as_ref()? {
            TrainData::Mixture(m) => (
                "mixture",
                format!("a {}-component Gaussian mixture", m.num_components()),
            ),
            TrainData::Toy(t) => ("toy", format!("the {} toy set", t.name())),
            TrainData::Points(p) => (
                "points",
                match self.data_origin.as_str() {
                    DRAWN => format!("{} drawn points", p.len()),
                    file => format!("{} points from {file}", p.len()),
                },
            ),
        })
    }

    /// The short description of the data in use, for messages.
    pub(super) fn data_info_label(&self) -> Option<String> {
        self.describe_data().map(|(_, label)| label)
    }
}

impl Session {
    /// Use a named data set: "mixture3", "seeds" or a 2-D toy set ("moons", "swiss-roll",
    /// "rings", "checkerboard", "8gaussians").
    pub fn set_dataset(&mut self, name: &str) -> Result<(), Error> {
        let data = named(name)?;
        self.set_train_data(data, name);
        Ok(())
    }

    /// Use the user's points, `[n, 2]` row-major (a drawing): at least 2, all finite.
    pub fn set_points(&mut self, values: Vec<f32>) -> Result<(), Error> {
        let n = values.len() / 2;
        let points = PointSet::new(values, 2).map_err(|e| match n {
            0 => Error::invalid("the drawing is empty: draw at least 2 points"),
            1 => Error::invalid("the drawing has 1 point: draw at least 2"),
            _ => e,
        })?;
        self.set_train_data(points.into(), DRAWN);
        Ok(())
    }

    /// Use the points of a CSV file (one `x, y` per line, an optional header). `origin` names the
    /// file in messages, which give the line of the first problem.
    pub fn set_csv(&mut self, text: &str, origin: &str) -> Result<(), Error> {
        let points = PointSet::from_csv(text, origin)?;
        check_2d(&points, origin)?;
        self.set_train_data(points.into(), origin);
        Ok(())
    }

    /// The current data set as JSON ([`DataInfo`]).
    pub fn data_info(&self) -> Result<String, Error> {
        let data = self.train_data()?;
        let (kind, label) = self.describe_data().expect("a data set is chosen");
        let points = match data {
            TrainData::Points(p) => Some(p.len()),
            _ => None,
        };
        let sample = match data {
            TrainData::Points(p) => p.values().to_vec(),
            other => other.sample(2000, &mut noise::rng(0)),
        };
        let extent = sample.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64));
        let info = DataInfo {
            kind,
            label,
            weights: data.mixture().map(|m| m.weights().to_vec()),
            means: data.mixture().map(|m| m.means().to_vec()),
            points,
            extent,
        };
        serde_json::to_string(&info).map_err(|e| Error::invalid(e.to_string()))
    }

    /// The energy distance `2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖` ([`metrics::energy_distance`]) between
    /// the first ≤1000 rows of `x` `[n, 2]` and the data: a point set itself (up to 1000 of its
    /// points), else 1000 draws from a fixed stream. 0 when the laws agree.
    pub fn energy_distance(&self, x: &[f32]) -> Result<f64, Error> {
        let data = self.train_data()?;
        let d = data.dim();
        let y = match data {
            TrainData::Points(p) => p.values()[..p.len().min(ENERGY_POINTS) * d].to_vec(),
            other => other.sample(ENERGY_POINTS, &mut noise::rng(ENERGY_SEED)),
        };
        let n = (x.len() / d).min(ENERGY_POINTS);
        metrics::energy_distance(&x[..n * d], &y, d)
    }

    /// The fraction of `x` (`[n, d]`) nearest each data component ([`metrics::component_weights`]).
    pub fn component_weights(&self, x: &[f32]) -> Result<Vec<f32>, Error> {
        let data = self.data.as_ref().ok_or_else(|| {
            Error::invalid("mixture weights exist only for a Gaussian mixture data set")
        })?;
        let w = metrics::component_weights(data, x)?;
        Ok(to_f32(&w))
    }
}
