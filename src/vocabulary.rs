//! The closed vocabularies of the data model. One definition serves the importer (which
//! rejects anything else), the database (stored as the snake_case text), JSON and CSV
//! (the same text), OpenAPI (an enum) and GraphQL (an enum).

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema, async_graphql::Enum)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every allowed value, as written in CSV and JSON.
            pub const VALUES: &'static [&'static str] = &[$($text),+];

            /// The value as written in CSV and JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parse the CSV/JSON spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

vocabulary! {
    /// What kind of publisher a source is.
    SourceKind {
        /// A government body: a city office, council record, code or police directive.
        Government = "government",
        /// A news organisation (possibly through a syndicated copy).
        News = "news",
        /// A court decision or court record.
        Court = "court",
        /// A report by a research, advocacy or legislative body.
        Report = "report",
        /// Anything else: blogs, aggregators, mirror copies.
        Other = "other",
    }
}

vocabulary! {
    /// Whether a program operates today, as far as a cited source states.
    ProgramStatus {
        /// Operating.
        Active = "active",
        /// Paused by its operator.
        Suspended = "suspended",
        /// No longer operating.
        Ended = "ended",
        /// Adopted or announced, not yet operating.
        Planned = "planned",
        /// No source found states the current status.
        Unknown = "unknown",
    }
}

vocabulary! {
    /// How precisely an event's date is known.
    DatePrecision {
        /// The exact day is known.
        Day = "day",
        /// Only the month is known; the date is the 1st of that month.
        Month = "month",
        /// Only the year is known; the date is 1 January of that year.
        Year = "year",
    }
}

vocabulary! {
    /// What happened in a program's timeline.
    EventKind {
        /// An ordinance or law was introduced, passed or amended.
        Ordinance = "ordinance",
        /// The program (or a phase of it) started.
        Launch = "launch",
        /// The program grew: new sites, benefits, budget or partners.
        Expansion = "expansion",
        /// A new feature or channel, such as appointments or online applications.
        Feature = "feature",
        /// A subpoena, lawsuit, court decision or other legal step.
        Legal = "legal",
        /// A service was paused or cancelled.
        Suspension = "suspension",
        /// An official statement.
        Statement = "statement",
        /// A paused service resumed.
        Reactivation = "reactivation",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// What kind of document a policy document is.
    DocumentKind {
        /// An ordinance, code chapter or local law.
        Ordinance = "ordinance",
        /// A policy, directive or rule.
        Policy = "policy",
        /// An official statement.
        Statement = "statement",
        /// A subpoena (as reported, unless the text itself is public).
        Subpoena = "subpoena",
        /// A report.
        Report = "report",
        /// A court decision.
        Court = "court",
    }
}

vocabulary! {
    /// How a figure relates to the true count, in the source's own words.
    Qualifier {
        /// The source states the exact number.
        Exact = "exact",
        /// "More than" or "over": the true count is at least this.
        AtLeast = "at_least",
        /// "Fewer than": the true count is at most this.
        AtMost = "at_most",
        /// "About" or "nearly": an approximation.
        Approximately = "approximately",
    }
}

vocabulary! {
    /// The standing of a figure.
    StatisticStatus {
        /// As reported by the source.
        Reported = "reported",
        /// An estimate.
        Estimated = "estimated",
        /// A preliminary figure that may change.
        Preliminary = "preliminary",
        /// A final figure.
        Final = "final",
        /// A revision of an earlier figure.
        Revised = "revised",
    }
}

vocabulary! {
    /// What a figure counts over its period, so figures counted differently never share
    /// a scale by accident: "about 24,000 in 2023" is not "more than 1.3 million since 2015".
    Basis {
        /// Only what happened within the period (a day, a week, a year, a budget year).
        InPeriod = "in_period",
        /// Everything since the program (or the channel counted) started, up to the end of
        /// the period; the period starts at that launch.
        Cumulative = "cumulative",
        /// A level at the end of the period, not a count of what happened within it: a
        /// backlog, a capacity, an agency's estimate of records held, or an amount
        /// allocated as of that date.
        PointInTime = "point_in_time",
    }
}

vocabulary! {
    /// Which ends of a figure's period a source does not state: they were inferred by
    /// the compilers, and the figure's note says how.
    PeriodInferred {
        /// Both ends are stated by the source (or are the source's publication date).
        None = "none",
        /// The first day is inferred.
        Start = "start",
        /// The last day is inferred.
        End = "end",
        /// Both ends are inferred.
        Both = "both",
    }
}
