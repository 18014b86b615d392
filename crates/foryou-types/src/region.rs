//! Home regions: every personal record lives in exactly one region's store.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A region name such as `eu`, `us` or `row`: 2–8 lowercase ASCII letters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    /// Checks the name and makes a region.
    pub fn new(name: &str) -> Result<Region, crate::Invalid> {
        let ok = (2..=8).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase());
        if ok {
            Ok(Region(name.to_string()))
        } else {
            Err(crate::Invalid::new(
                "region",
                format!("'{name}' is not a region name: use 2-8 lowercase letters"),
            ))
        }
    }

    /// The name as written in paths and JSON.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Region {
    type Error = crate::Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Region::new(&s)
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One region and the countries (ISO 3166-1 alpha-2) whose residents it homes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegionSpec {
    /// The region's name.
    pub name: Region,
    /// Upper-case alpha-2 country codes homed here.
    pub countries: Vec<String>,
}

/// The configured list of regions and the rule that picks a user's home region.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegionMap {
    /// Regions with their countries, checked in order.
    pub regions: Vec<RegionSpec>,
    /// Where every other country is homed.
    pub default: Region,
}

/// EU member states plus the EEA (Iceland, Liechtenstein, Norway).
const EU_EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

impl Default for RegionMap {
    /// `eu` (EU/EEA), `us` (United States) and `row` (the rest of the world).
    fn default() -> Self {
        let spec = |name: &str, cs: &[&str]| RegionSpec {
            name: Region(name.to_string()),
            countries: cs.iter().map(|c| c.to_string()).collect(),
        };
        RegionMap {
            regions: vec![spec("eu", EU_EEA), spec("us", &["US"]), spec("row", &[])],
            default: Region("row".into()),
        }
    }
}

impl RegionMap {
    /// Every region, the default included, without duplicates, in configuration order.
    pub fn all(&self) -> Vec<Region> {
        let mut out: Vec<Region> = self.regions.iter().map(|r| r.name.clone()).collect();
        if !out.contains(&self.default) {
            out.push(self.default.clone());
        }
        out
    }

    /// The home region of a resident of `country` (alpha-2, any case).
    pub fn home_of(&self, country: &str) -> Result<Region, crate::Invalid> {
        let c = country.trim().to_ascii_uppercase();
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) || !is_iso_country(&c) {
            return Err(crate::Invalid::new(
                "country",
                format!("'{country}' is not an ISO 3166-1 country code: send the two letters of your country, such as \"DE\" or \"US\""),
            ));
        }
        Ok(self
            .regions
            .iter()
            .find(|r| r.countries.iter().any(|x| x.eq_ignore_ascii_case(&c)))
            .map(|r| r.name.clone())
            .unwrap_or_else(|| self.default.clone()))
    }

    /// Parses `name=CC,CC;name=CC;...;default=name` as given to `--regions`.
    pub fn parse(spec: &str) -> Result<RegionMap, crate::Invalid> {
        let mut regions = Vec::new();
        let mut default = None;
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, list) = part.split_once('=').unwrap_or((part, ""));
            if name == "default" {
                default = Some(Region::new(list.trim())?);
                continue;
            }
            let countries = list
                .split(',')
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .collect();
            regions.push(RegionSpec {
                name: Region::new(name.trim())?,
                countries,
            });
        }
        let default = match default.or_else(|| regions.last().map(|r: &RegionSpec| r.name.clone()))
        {
            Some(d) => d,
            None => {
                return Err(crate::Invalid::new(
                    "regions",
                    "name at least one region, e.g. \"eu=DE,FR;us=US;row=\"",
                ))
            }
        };
        Ok(RegionMap { regions, default })
    }
}

/// The officially assigned ISO 3166-1 alpha-2 codes, one per line (`data/README.md`).
const ISO_COUNTRIES: &str = include_str!("../data/iso3166-alpha2.txt");

/// Whether `code` (two upper-case letters) is an assigned ISO 3166-1 alpha-2 country code.
pub fn is_iso_country(code: &str) -> bool {
    ISO_COUNTRIES.lines().any(|l| l == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_map_to_home_regions() {
        let m = RegionMap::default();
        let home = |c: &str| m.home_of(c).map(|r| r.to_string()).unwrap_or_default();
        assert_eq!(home("DE"), "eu");
        assert_eq!(home("no"), "eu");
        assert_eq!(home("US"), "us");
        assert_eq!(home("JP"), "row");
        assert!(m.home_of("USA").is_err());
        assert!(m.home_of("1A").is_err());
    }

    #[test]
    fn region_list_parses() {
        let m = RegionMap::parse("eu=DE,FR;us=US;apac=JP,SG;default=apac").expect("valid spec");
        assert_eq!(m.all().len(), 3);
        assert_eq!(
            m.home_of("SG").map(|r| r.to_string()).unwrap_or_default(),
            "apac"
        );
        assert_eq!(
            m.home_of("BR").map(|r| r.to_string()).unwrap_or_default(),
            "apac"
        );
        assert!(RegionMap::parse("EU=DE").is_err());
    }
}
