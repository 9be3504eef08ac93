//! The page's three score sources and when each can drive the panels: the network trained in the
//! page ("learned"), the shipped model of the data set ("pretrained"), and the exact score of a
//! mixture ("oracle"). A network knows the score only at the levels of the process it was trained
//! on, so it drives the panels only while the page shows that process.

use super::Session;
use crate::data::MixtureScore;
use crate::error::Error;
use crate::model::{Mlp, Parameterization};
use crate::process::ProcessConfig;
use crate::sampler::ScoreSource;
use crate::train::ModelCard;

/// "learned", "pretrained" or "oracle".
pub(super) fn parse(source: &str) -> Result<ScoreSource, Error> {
    serde_json::from_value(source.into()).map_err(|_| {
        Error::invalid(format!(
            "unknown score source '{source}' (learned, pretrained or oracle)"
        ))
    })
}

/// The process a model card's network is conditioned on.
fn card_process(card: &ModelCard) -> Option<ProcessConfig> {
    card.train.objective.sampling_process()
}

impl Session {
    /// Why `source` cannot give a score on the page's process and data, if it cannot.
    pub(super) fn source_support(&self, source: ScoreSource) -> Result<(), Error> {
        let shown = self.process.config();
        let label = || {
            self.data_info_label()
                .unwrap_or_else(|| "this data".to_string())
        };
        let other = |who: &str, trained: Option<ProcessConfig>, fix: &str| match trained {
            Some(p) if p == shown => Ok(()),
            Some(p) => Err(Error::invalid(format!(
                "{who} was trained on the {} process and the page shows {}: {fix}",
                p.describe(),
                shown.describe()
            ))),
            None => Err(Error::invalid(format!(
                "{who} learned one noise-free score, not a process's"
            ))),
        };
        match source {
            ScoreSource::Oracle => match self.data {
                Some(_) => Ok(()),
                None => Err(Error::invalid(
                    "the exact (oracle) score is known only for the Gaussian mixtures",
                )),
            },
            ScoreSource::Pretrained => {
                let own = self
                    .pretrained
                    .as_ref()
                    .filter(|(_, card)| {
                        self.dataset
                            .as_ref()
                            .is_some_and(|d| d.spec(&self.data_origin) == card.data)
                    })
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "there is no pretrained model for {}: train one in the Training panel",
                            label()
                        ))
                    })?;
                other(
                    "the pretrained model",
                    card_process(&own.1),
                    "choose that process to use it",
                )
            }
            ScoreSource::Learned => {
                let trainer = self.trainer.as_ref().ok_or_else(|| {
                    Error::invalid(
                        "no network trained yet: press ▶ train or step in the Training panel",
                    )
                })?;
                other(
                    "the network in the Training panel",
                    trainer.model_process(),
                    "press ▶ train to train one on this process",
                )
            }
        }
    }

    /// The data mixture's exact score.
    pub(super) fn oracle(&self) -> Result<MixtureScore, Error> {
        self.data.clone().map(MixtureScore::new).ok_or_else(|| {
            Error::invalid("the exact (oracle) score is known only for the Gaussian mixtures")
        })
    }

    /// A network source's weights, parameterisation and number of levels T (its conditioning
    /// input counts them).
    pub(super) fn network(
        &self,
        source: ScoreSource,
    ) -> Result<(Mlp, Parameterization, usize), Error> {
        self.source_support(source)?;
        let steps = self.process.config().num_steps();
        match source {
            ScoreSource::Pretrained => {
                let (net, card) = self.pretrained.as_ref().expect("checked by source_support");
                Ok((net.clone(), card.parameterization, steps))
            }
            ScoreSource::Learned => {
                let trainer = self.trainer.as_ref().expect("checked by source_support");
                Ok((
                    trainer.model(),
                    trainer.config().objective.parameterization(),
                    steps,
                ))
            }
            ScoreSource::Oracle => Err(Error::invalid("the oracle is not a network")),
        }
    }
}
