//! The typed WFM and presence calls, each with its route template (the metric label).

use super::http::Call;
use super::{WfmClient, WfmError};
use crate::genesys::presence::{RoutingStatus, UserPresence};
use crate::genesys::wfm::*;
use reqwest::Method;

/// Most user ids one bulk presence call takes.
pub const BULK_PRESENCE_MAX: usize = 50;

pub(super) const WFM: &str = "/api/v2/workforcemanagement";

/// Percent-encodes one path segment (ids are UUIDs, but nothing is trusted to be).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A week id (`yyyy-MM-dd`) from a REST date or a topic date-time.
pub fn week_id(week_date: &str) -> &str {
    match week_date.get(..10) {
        Some(d) if week_date.len() > 10 && week_date.as_bytes()[10] == b'T' => d,
        _ => week_date,
    }
}

/// Which weeks a schedule listing covers.
#[derive(Debug, Clone)]
pub enum Weeks<'a> {
    /// Schedules spanning this week (`yyyy-MM-dd`).
    Week(&'a str),
    /// `recent`, narrowed to `[earliest, latest]` week dates.
    Recent {
        /// `earliestWeekDate`.
        earliest: &'a str,
        /// `latestWeekDate`.
        latest: &'a str,
    },
}

impl WfmClient {
    /// `GET /businessunits`: every business unit the client can see.
    pub async fn business_units(&self) -> Result<Vec<BusinessUnitListItem>, WfmError> {
        let l: BusinessUnitListing = self
            .get_json("businessunits.list", &format!("{WFM}/businessunits"))
            .await?;
        Ok(l.entities)
    }

    /// `GET /businessunits/{id}?expand=settings` (time zone, week start).
    pub async fn business_unit(&self, bu: &str) -> Result<BusinessUnitResponse, WfmError> {
        let path = format!("{WFM}/businessunits/{}?expand=settings", seg(bu));
        self.get_json("businessunits.get", &path).await
    }

    /// `GET /businessunits/{id}/managementunits`.
    pub async fn management_units(&self, bu: &str) -> Result<Vec<ManagementUnit>, WfmError> {
        let path = format!("{WFM}/businessunits/{}/managementunits", seg(bu));
        let l: ManagementUnitListing = self.get_json("managementunits.list", &path).await?;
        Ok(l.entities)
    }

    /// `GET /managementunits/{id}/users`: the agents' user ids.
    pub async fn management_unit_users(&self, mu: &str) -> Result<Vec<String>, WfmError> {
        let members = self.management_unit_members(mu).await?;
        Ok(members.into_iter().map(|(id, _)| id).collect())
    }

    /// The same call, with each user's name where the answer gives one.
    pub async fn management_unit_members(&self, mu: &str) -> Result<Vec<(String, Option<String>)>, WfmError> {
        let path = format!("{WFM}/managementunits/{}/users", seg(mu));
        let l: WfmUserEntityListing = self.get_json("managementunits.users", &path).await?;
        Ok(l.entities
            .into_iter()
            .filter_map(|u| Some((u.id?, u.name)))
            .collect())
    }

    /// `GET /businessunits/{bu}/weeks/{week|recent}/schedules`.
    pub async fn schedules(
        &self,
        bu: &str,
        weeks: Weeks<'_>,
        include_only_published: bool,
    ) -> Result<Vec<BuScheduleMetadata>, WfmError> {
        let path = match weeks {
            Weeks::Week(w) => format!(
                "{WFM}/businessunits/{}/weeks/{}/schedules?includeOnlyPublished={include_only_published}",
                seg(bu),
                seg(week_id(w))
            ),
            Weeks::Recent { earliest, latest } => format!(
                "{WFM}/businessunits/{}/weeks/recent/schedules?earliestWeekDate={}&latestWeekDate={}&includeOnlyPublished={include_only_published}",
                seg(bu),
                seg(week_id(earliest)),
                seg(week_id(latest))
            ),
        };
        let l: BuScheduleListing = self.get_json("schedules.list", &path).await?;
        Ok(l.entities)
    }

    /// `GET …/weeks/{week}/schedules/{id}?expand=managementUnits.agents`.
    /// [`WfmError::NotFound`] means the schedule was deleted.
    pub async fn schedule_metadata(
        &self,
        bu: &str,
        week_date: &str,
        schedule: &str,
    ) -> Result<BuScheduleMetadata, WfmError> {
        let path = format!(
            "{WFM}/businessunits/{}/weeks/{}/schedules/{}?expand=managementUnits.agents",
            seg(bu),
            seg(week_id(week_date)),
            seg(schedule)
        );
        self.get_json("schedules.get", &path).await
    }

    /// Agent schedules of one management unit within a schedule: inline `result`,
    /// `downloadUrl`, or (when still processing) a second query forced to the download
    /// service. A missing result is [`WfmError::NoResult`], never an empty schedule.
    pub async fn agent_schedules(
        &self,
        bu: &str,
        week_date: &str,
        schedule: &str,
        management_unit: &str,
        user_ids: Option<Vec<String>>,
    ) -> Result<BuAgentSchedulesQueryResponse, WfmError> {
        self.agent_schedules_as(bu, week_date, schedule, management_unit, user_ids)
            .await
    }

    /// [`WfmClient::agent_schedules`] parsed one agent at a time straight into canonical
    /// form: the API form of the whole unit is never held (`diff/streamed.rs`).
    pub async fn agent_schedules_canonical(
        &self,
        bu: &str,
        week_date: &str,
        schedule: &str,
        management_unit: &str,
        user_ids: Option<Vec<String>>,
    ) -> Result<crate::diff::CanonicalAnswer, WfmError> {
        self.agent_schedules_as(bu, week_date, schedule, management_unit, user_ids)
            .await
    }

    /// The agent-schedules query with its result parsed as `R`.
    async fn agent_schedules_as<R>(
        &self,
        bu: &str,
        week_date: &str,
        schedule: &str,
        management_unit: &str,
        user_ids: Option<Vec<String>>,
    ) -> Result<R, WfmError>
    where
        R: serde::de::DeserializeOwned + Default + Send + 'static,
    {
        let route = "agentschedules.query";
        let body = serde_json::to_value(BuQueryAgentSchedulesRequest {
            management_unit_id: management_unit.to_string(),
            user_ids,
        })
        .expect("plain data");
        let path = format!(
            "{WFM}/businessunits/{}/weeks/{}/schedules/{}/agentschedules/query",
            seg(bu),
            seg(week_id(week_date)),
            seg(schedule)
        );
        let mut last = None;
        for force in [false, true] {
            let p = if force {
                format!("{path}?forceDownloadService=true")
            } else {
                path.clone()
            };
            let answer: BuAsyncAgentSchedulesQueryResponse<R> = self.post_json(route, &p, &body).await?;
            if let Some(result) = answer.result {
                return Ok(result);
            }
            if let Some(url) = answer.download_url.as_deref() {
                return self
                    .download_json(
                        "agentschedules.download",
                        url,
                        &format!("management unit {management_unit}"),
                    )
                    .await;
            }
            crate::telemetry::rest::query_without_result(route, &answer.status, &answer.operation_id, force);
            last = Some(answer);
        }
        let last = last.unwrap_or_default();
        Err(WfmError::NoResult {
            route,
            status: last.status,
            operation_id: last.operation_id,
        })
    }

    /// `GET /managementunits/{id}/adherence`: Genesys's real-time adherence of every agent
    /// of one unit, inline or (large units) through `downloadUrl`, streamed with the
    /// download cap like a schedule result.
    pub async fn management_unit_adherence(
        &self,
        mu: &str,
    ) -> Result<Vec<crate::genesys::adherence::UserScheduleAdherence>, WfmError> {
        use crate::genesys::adherence::ManagementUnitAdherence;
        let path = format!("{WFM}/managementunits/{}/adherence", seg(mu));
        let answer: ManagementUnitAdherence = self.get_json("adherence.get", &path).await?;
        if let Some(entities) = answer.entities {
            return Ok(entities);
        }
        let Some(url) = answer.download_url else {
            return Ok(Vec::new());
        };
        let unit = format!("management unit {mu}");
        let downloaded: ManagementUnitAdherence =
            self.download_json("adherence.download", &url, &unit).await?;
        Ok(downloaded.entities.unwrap_or_default())
    }

    /// `GET /users/{id}/presences/purecloud`.
    pub async fn presence(&self, user: &str) -> Result<UserPresence, WfmError> {
        let path = format!("/api/v2/users/{}/presences/purecloud", seg(user));
        self.get_json("presence.get", &path).await
    }

    /// `GET /users/presences/purecloud/bulk?id=…`, [`BULK_PRESENCE_MAX`] ids per call;
    /// every answer carries `userId`.
    pub async fn presences(&self, users: &[String]) -> Result<Vec<UserPresence>, WfmError> {
        let mut out = Vec::with_capacity(users.len());
        for chunk in users.chunks(BULK_PRESENCE_MAX) {
            let query: Vec<String> = chunk.iter().map(|u| format!("id={}", seg(u))).collect();
            let path = format!("/api/v2/users/presences/purecloud/bulk?{}", query.join("&"));
            let mut got: Vec<UserPresence> = self.get_json("presence.bulk", &path).await?;
            out.append(&mut got);
        }
        Ok(out)
    }

    /// `GET /users/{id}/routingstatus`.
    pub async fn routing_status(&self, user: &str) -> Result<RoutingStatus, WfmError> {
        let path = format!("/api/v2/users/{}/routingstatus", seg(user));
        self.get_json("routingstatus.get", &path).await
    }

    /// A raw GET of an API path through the budget (used by `doctor` for checks that
    /// have no typed call). Returns the body.
    pub async fn get_raw(&self, route: &'static str, path: &str) -> Result<bytes::Bytes, WfmError> {
        self.send(Call {
            route,
            method: Method::GET,
            url: format!("{}{}", self.base, path),
            body: None,
            bearer: true,
            cap: crate::bounds::body::WFM_BODY,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_ids_and_segments() {
        assert_eq!(week_id("2026-08-10T00:00:00Z"), "2026-08-10");
        assert_eq!(week_id("2026-08-10"), "2026-08-10");
        assert_eq!(week_id("recent"), "recent");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
