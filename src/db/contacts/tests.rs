use super::*;
use crate::db::Db;
use crate::db::workspaces;
use crate::error::AppError;
use crate::model::contact::{ContactFilter, ContactSort, PageRequest, Selection, Total};

crate::db_tests!(
    create_get_update_delete,
    a_number_belongs_to_one_contact_per_workspace,
    another_workspace_cannot_read_change_or_delete,
    paging_never_skips_or_repeats_even_with_equal_names,
    search_by_name_email_and_phone_digits,
    search_pages_list_each_match_once,
    a_search_reads_past_matches_listed_under_another_term,
    phone_search_pages_list_each_match_once_across_countries,
    delete_all_matching_spares_the_rest,
    export_reads_the_selection_in_batches,
    ids_are_never_given_out_twice,
    exact_counts_take_turns
);

use crate::model::field::ContactField::*;

fn person(first: &str, last: &str, mobile: Option<(&str, &str)>) -> ContactRecord {
    let mut record = ContactRecord::default()
        .with(FirstName, first)
        .with(LastName, last)
        .with(Country, "SG");
    record.set(Mobile, mobile.map(|(e164, _)| e164.to_string()));
    record.mobile_national = mobile.map(|(_, national)| national.to_string());
    record
}

async fn workspace(db: &Db) -> i64 {
    workspaces::create(db, "Acme", "SG").await.unwrap()
}

fn names(page: &ListedPage) -> Vec<String> {
    page.rows
        .iter()
        .map(|r| {
            format!("{} {}", r.first_name, r.last_name)
                .trim()
                .to_string()
        })
        .collect()
}

fn filter(search: &str, sort: ContactSort) -> ContactFilter {
    ContactFilter {
        search: search.into(),
        sort,
        ..Default::default()
    }
}

/// Walks every page forward, then back, and returns the ids in order.
async fn walk(db: &Db, ws: i64, filter: &ContactFilter, size: u32) -> (Vec<i64>, Vec<i64>) {
    let mut forward = Vec::new();
    let mut request = PageRequest::First;
    let mut last;
    loop {
        let page = page(db, ws, filter, &request, size).await.unwrap();
        forward.extend(page.rows.iter().map(|r| r.id));
        last = page.clone();
        match page.next {
            Some(c) => request = PageRequest::After(c),
            None => break,
        }
    }
    let mut backward: Vec<i64> = last.rows.iter().rev().map(|r| r.id).collect();
    let mut previous = last.previous;
    while let Some(c) = previous {
        let page = page(db, ws, filter, &PageRequest::Before(c), size)
            .await
            .unwrap();
        backward.extend(page.rows.iter().rev().map(|r| r.id));
        previous = page.previous;
    }
    backward.reverse();
    (forward, backward)
}

async fn create_get_update_delete(db: Db) {
    let ws = workspace(&db).await;
    let id = create(
        &db,
        ws,
        &person("Ann", "Lee", Some(("+6581234567", "81234567"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let stored = get(db.acquire().await.unwrap().conn(), ws, id)
        .await
        .unwrap();
    assert_eq!(stored.record.get(FirstName), Some("Ann"));
    assert_eq!(stored.record.get(Mobile), Some("+6581234567"));

    let mut changed = stored.record.clone();
    changed.set(LastName, Some("Tan".into()));
    update(
        db.acquire().await.unwrap().conn(),
        ws,
        id,
        &changed,
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    assert_eq!(
        get(db.acquire().await.unwrap().conn(), ws, id)
            .await
            .unwrap()
            .record
            .get(LastName),
        Some("Tan")
    );
    // Search follows the change.
    let found = page(
        &db,
        ws,
        &filter("tan", ContactSort::Newest),
        &PageRequest::First,
        50,
    )
    .await
    .unwrap();
    assert_eq!(names(&found), ["Ann Tan"]);
    let gone = page(
        &db,
        ws,
        &filter("lee", ContactSort::Newest),
        &PageRequest::First,
        50,
    )
    .await
    .unwrap();
    assert!(gone.rows.is_empty());

    assert_eq!(
        delete(
            db.acquire().await.unwrap().conn(),
            ws,
            &Selection::Ids(vec![id]),
            crate::db::testing::AUTHOR
        )
        .await
        .unwrap(),
        1
    );
    assert!(matches!(
        get(db.acquire().await.unwrap().conn(), ws, id).await,
        Err(AppError::NotFound(_))
    ));
}

async fn a_number_belongs_to_one_contact_per_workspace(db: Db) {
    let ws = workspace(&db).await;
    let other = workspaces::create(&db, "Other", "SG").await.unwrap();
    let number = Some(("+6581234567", "81234567"));
    create(
        &db,
        ws,
        &person("Ann", "Lee", number),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let again = create(
        &db,
        ws,
        &person("Bob", "Ng", number),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap_err();
    assert_eq!(
        again.field_message("mobile").as_deref(),
        Some("This number already belongs to Ann Lee.")
    );
    // Another workspace may hold the same number.
    create(
        &db,
        other,
        &person("Cat", "Ong", number),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    // Contacts without numbers do not clash.
    create(
        &db,
        ws,
        &person("Dan", "", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    create(
        &db,
        ws,
        &person("Eve", "", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
}

async fn another_workspace_cannot_read_change_or_delete(db: Db) {
    let ws = workspace(&db).await;
    let other = workspaces::create(&db, "Other", "SG").await.unwrap();
    let id = create(
        &db,
        ws,
        &person("Ann", "Lee", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    assert!(matches!(
        get(db.acquire().await.unwrap().conn(), other, id).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        update(
            db.acquire().await.unwrap().conn(),
            other,
            id,
            &person("X", "Y", None),
            crate::db::testing::AUTHOR
        )
        .await,
        Err(AppError::NotFound(_))
    ));
    assert_eq!(
        delete(
            db.acquire().await.unwrap().conn(),
            other,
            &Selection::Ids(vec![id]),
            crate::db::testing::AUTHOR
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        delete(
            db.acquire().await.unwrap().conn(),
            other,
            &Selection::AllMatching(ContactFilter::default()),
            crate::db::testing::AUTHOR
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        count(&db, other, &ContactFilter::default()).await.unwrap(),
        0
    );
    assert!(
        page(
            &db,
            other,
            &ContactFilter::default(),
            &PageRequest::First,
            50
        )
        .await
        .unwrap()
        .rows
        .is_empty()
    );
    assert_eq!(
        get(db.acquire().await.unwrap().conn(), ws, id)
            .await
            .unwrap()
            .record
            .get(FirstName),
        Some("Ann")
    );
}

async fn paging_never_skips_or_repeats_even_with_equal_names(db: Db) {
    let ws = workspace(&db).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        // Many contacts share a name, so only the id tells them apart.
        let first = ["Ann", "Bob", "ann", "Cat"][i % 4];
        ids.push(
            create(
                &db,
                ws,
                &person(first, "Lee", None),
                crate::db::testing::AUTHOR,
            )
            .await
            .unwrap(),
        );
    }
    for sort in ContactSort::ALL {
        let (forward, backward) = walk(&db, ws, &filter("", sort), 5).await;
        let mut sorted = forward.clone();
        sorted.sort_unstable();
        let mut expected = ids.clone();
        expected.sort_unstable();
        assert_eq!(sorted, expected, "{sort:?}: every contact exactly once");
        assert_eq!(forward, backward, "{sort:?}: Previous retraces Next");
    }
    let (newest, _) = walk(&db, ws, &filter("", ContactSort::Newest), 7).await;
    assert_eq!(newest, ids.iter().rev().copied().collect::<Vec<_>>());
    let first = page(
        &db,
        ws,
        &filter("", ContactSort::NameAsc),
        &PageRequest::First,
        50,
    )
    .await
    .unwrap();
    assert!(
        names(&first)
            .windows(2)
            .all(|w| w[0].to_lowercase() <= w[1].to_lowercase())
    );
    assert!(first.previous.is_none() && first.next.is_none());
}

async fn search_by_name_email_and_phone_digits(db: Db) {
    let ws = workspace(&db).await;
    create(
        &db,
        ws,
        &person("Ann", "Smith", Some(("+6581234567", "81234567"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    create(
        &db,
        ws,
        &person("Annabel", "Ng", Some(("+6591234567", "91234567"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    create(
        &db,
        ws,
        &person("Bob", "Annan", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let mut with_email = person("Zed", "Zhu", None);
    with_email.set(Email, Some("ann.z@example.com".into()));
    create(&db, ws, &with_email, crate::db::testing::AUTHOR)
        .await
        .unwrap();
    create(
        &db,
        ws,
        &person("Émile", "Zola", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    // Its email equals its sort name: two heads match with the same term.
    let mut quill = person("", "Quill", None);
    quill.set(Email, Some("quill".into()));
    create(&db, ws, &quill, crate::db::testing::AUTHOR)
        .await
        .unwrap();
    // İ lower-cases to two characters; the last name must still be found.
    create(
        &db,
        ws,
        &person("İlker", "Yılmaz", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    // A UK number, typed the national way with its trunk zero.
    create(
        &db,
        ws,
        &person("Gwen", "Jones", Some(("+447911123456", "7911123456"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    // A number whose national digits keep their leading zero (Côte d'Ivoire).
    create(
        &db,
        ws,
        &person("Awa", "Koné", Some(("+2250701020304", "0701020304"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();

    let search = |q: &str| {
        let db = db.clone();
        let q = q.to_string();
        async move {
            let f = filter(&q, ContactSort::Newest);
            let page = page(&db, ws, &f, &PageRequest::First, 50).await.unwrap();
            let count = count(&db, ws, &f).await.unwrap();
            assert_eq!(
                count as usize,
                page.rows.len(),
                "count agrees with rows for {q:?}"
            );
            // A count up to a bound: exact below it, "more" past it, each contact once
            // however many ways it matches.
            let up_to = |bound| count_up_to(&db, ws, &f, bound);
            assert_eq!(up_to(50).await.unwrap(), Total::exact(count), "{q:?}");
            if count > 0 {
                let more = Total {
                    count: count - 1,
                    more: true,
                };
                assert_eq!(up_to(count - 1).await.unwrap(), more, "{q:?}");
            }
            let mut names = names(&page);
            names.sort();
            names
        }
    };
    // First name, last name and email prefixes, each contact once.
    assert_eq!(
        search("ann").await,
        ["Ann Smith", "Annabel Ng", "Bob Annan", "Zed Zhu"]
    );
    assert_eq!(search("SMI").await, ["Ann Smith"]);
    assert_eq!(search("ann s").await, ["Ann Smith"]);
    // Local digits and international digits.
    assert_eq!(search("8123").await, ["Ann Smith"]);
    assert_eq!(search("+65 9123").await, ["Annabel Ng"]);
    assert_eq!(search("65").await, ["Ann Smith", "Annabel Ng"]);
    // Unicode names are matched case-insensitively.
    assert_eq!(search("émi").await, ["Émile Zola"]);
    assert_eq!(search("ÉMI").await, ["Émile Zola"]);
    assert!(search("xyz").await.is_empty());
    // Prefix only: "nna" is inside "Ann" but starts nothing.
    assert!(search("nna").await.is_empty());
    // A last name alone is the whole name: found once, and only from its start.
    // (Quill is found once although its email and sort name are the same.)
    assert_eq!(search("qui").await, ["Quill"]);
    assert!(search("uill").await.is_empty());
    assert_eq!(search("zo").await, ["Émile Zola"]);
    assert_eq!(search("yıl").await, ["İlker Yılmaz"]);
    assert_eq!(search("ilk").await, ["İlker Yılmaz"]);
    assert_eq!(search("İLKER Y").await, ["İlker Yılmaz"]);
    // National digits with or without the trunk zero, and international.
    assert_eq!(search("07911 123456").await, ["Gwen Jones"]);
    assert_eq!(search("7911").await, ["Gwen Jones"]);
    assert_eq!(search("+44 7911").await, ["Gwen Jones"]);
    assert_eq!(search("0701").await, ["Awa Koné"]);
}

async fn search_pages_list_each_match_once(db: Db) {
    let ws = workspace(&db).await;
    for i in 0..17 {
        let mut p = person("Ann", &format!("Anders{i:02}"), None);
        p.set(Email, Some(format!("ann{i}@example.com")));
        create(&db, ws, &p, crate::db::testing::AUTHOR)
            .await
            .unwrap();
    }
    create(
        &db,
        ws,
        &person("Bob", "Brown", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let (forward, backward) = walk(&db, ws, &filter("an", ContactSort::Newest), 4).await;
    assert_eq!(forward.len(), 17);
    let unique: std::collections::BTreeSet<_> = forward.iter().collect();
    assert_eq!(unique.len(), 17);
    assert_eq!(forward, backward);
}

async fn a_search_reads_past_matches_listed_under_another_term(db: Db) {
    let ws = workspace(&db).await;
    // Each Mara's email also starts with "mar", after her name: listed by name only,
    // so the email range holds 30 rows to pass over before Mary's.
    for i in 0..30 {
        let mut p = person("Mara", &format!("X{i:02}"), None);
        p.set(Email, Some(format!("mara.x{i:02}@example.com")));
        create(&db, ws, &p, crate::db::testing::AUTHOR)
            .await
            .unwrap();
    }
    create(
        &db,
        ws,
        &person("Zed", "Marley", None),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let mut mary = person("Bob", "Quinn", None);
    mary.set(Email, Some("mary@example.com".into()));
    let mary = create(&db, ws, &mary, crate::db::testing::AUTHOR)
        .await
        .unwrap();
    let search = filter("mar", ContactSort::Newest);
    let (forward, backward) = walk(&db, ws, &search, 5).await;
    assert_eq!(forward.len(), 32);
    assert_eq!(forward.last(), Some(&mary), "the email match comes last");
    assert_eq!(forward, backward);
    assert_eq!(count(&db, ws, &search).await.unwrap(), 32);
}

async fn phone_search_pages_list_each_match_once_across_countries(db: Db) {
    let ws = workspace(&db).await;
    let numbers = [
        // International and national digits both start with 65.
        ("+6565000001", "65000001"),
        ("+6565000002", "65000002"),
        ("+6565000003", "65000003"),
        // Only the international digits do.
        ("+6581000001", "81000001"),
        ("+6581000002", "81000002"),
        // Only the national digits, behind another code.
        ("+16505550123", "6505550123"),
        // Neither.
        ("+447911123456", "7911123456"),
        ("+12025550123", "2025550123"),
    ];
    let mut ids = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        let p = person("Ann", &format!("Lee{i}"), Some(*number));
        ids.push(
            create(&db, ws, &p, crate::db::testing::AUTHOR)
                .await
                .unwrap(),
        );
    }
    let other = workspaces::create(&db, "B", "SG").await.unwrap();
    create(
        &db,
        other,
        &person("Not", "Mine", Some(("+6565000009", "65000009"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();

    let f = filter("65", ContactSort::Newest);
    let (forward, backward) = walk(&db, ws, &f, 2).await;
    assert_eq!(forward, backward);
    let mut found = forward.clone();
    found.sort();
    assert_eq!(
        found,
        ids[..6].to_vec(),
        "each match once, no other workspace"
    );
    assert_eq!(count(&db, ws, &f).await.unwrap(), 6);
    // In term order: national "65000001…" before "6505550123", then "6581…".
    assert_eq!(forward, [ids[0], ids[1], ids[2], ids[5], ids[3], ids[4]]);
    // National digits of another country, and international ones with the code.
    let us = filter("650", ContactSort::Newest);
    assert_eq!(count(&db, ws, &us).await.unwrap(), 4);
    let gb = filter("+44 7911", ContactSort::Newest);
    let rows = page(&db, ws, &gb, &PageRequest::First, 10).await.unwrap();
    assert_eq!(rows.rows.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[6]]);
    let selection = Selection::AllMatching(f.clone());
    assert_eq!(count_selection(&db, ws, &selection).await.unwrap(), 6);
    // Counted up to a bound, a count past it says there are more; asked for exactly, all.
    let (bound, limit) = (4, std::time::Duration::from_secs(10));
    let more = Total {
        count: 4,
        more: true,
    };
    assert_eq!(count_up_to(&db, ws, &f, bound).await.unwrap(), more);
    assert_eq!(
        count_up_to(&db, ws, &us, bound).await.unwrap(),
        Total::exact(4)
    );
    assert_eq!(
        count_within(&db, ws, &f, limit).await.unwrap(),
        Total::exact(6)
    );
    let members = ContactFilter {
        group: Some(group_of_two(&db, ws, &ids).await),
        ..Default::default()
    };
    assert_eq!(
        count_up_to(&db, ws, &members, 1).await.unwrap(),
        Total {
            count: 1,
            more: true
        }
    );
    assert_eq!(
        count_within(&db, ws, &members, limit).await.unwrap(),
        Total::exact(2)
    );
    // The connection an exact count used never goes back to the pool with its deadline.
    for _ in 0..8 {
        assert_eq!(count(&db, ws, &f).await.unwrap(), 6);
    }
}

/// A group holding the first two of `ids`.
async fn group_of_two(db: &Db, ws: i64, ids: &[i64]) -> i64 {
    use crate::db::groups;
    use crate::model::group::{GroupInput, GroupPicks};
    let input = GroupInput {
        name: "Pair".into(),
        description: String::new(),
        blacklisted: false,
    };
    let group = groups::create(db, ws, &input).await.unwrap();
    let picks = GroupPicks {
        ids: vec![group],
        new_names: Vec::new(),
    };
    let selection = Selection::Ids(ids[..2].to_vec());
    let author = crate::db::testing::AUTHOR;
    groups::add_members(db, ws, &picks, &selection, author)
        .await
        .unwrap();
    group
}

async fn delete_all_matching_spares_the_rest(db: Db) {
    let ws = workspace(&db).await;
    for name in ["Ann", "Anna", "Bob"] {
        create(&db, ws, &person(name, "", None), crate::db::testing::AUTHOR)
            .await
            .unwrap();
    }
    let matching = Selection::AllMatching(filter("ann", ContactSort::Newest));
    assert_eq!(
        delete(
            db.acquire().await.unwrap().conn(),
            ws,
            &matching,
            crate::db::testing::AUTHOR
        )
        .await
        .unwrap(),
        2
    );
    assert_eq!(count(&db, ws, &ContactFilter::default()).await.unwrap(), 1);
}

async fn export_reads_the_selection_in_batches(db: Db) {
    let ws = workspace(&db).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            create(
                &db,
                ws,
                &person(&format!("P{i}"), "", None),
                crate::db::testing::AUTHOR,
            )
            .await
            .unwrap(),
        );
    }
    let all = Selection::AllMatching(ContactFilter::default());
    let first = export_batch(&db, ws, &all, 0, 3).await.unwrap();
    let rest = export_batch(&db, ws, &all, first.last().unwrap().id, 3)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 5);
    let picked = export_batch(&db, ws, &Selection::Ids(vec![ids[1], ids[3]]), 0, 100)
        .await
        .unwrap();
    assert_eq!(
        picked.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ids[1], ids[3]]
    );
}

/// An integration that kept a deleted contact's or group's id must never see it come
/// back as another one: deleting the newest row and creating the next gives a new id.
async fn ids_are_never_given_out_twice(db: Db) {
    use crate::db::groups;
    use crate::model::group::GroupInput;
    let ws = workspace(&db).await;
    let first = create(
        &db,
        ws,
        &person("Ann", "", Some(("+6581000001", "81000001"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let newest = create(
        &db,
        ws,
        &person("Bo", "", Some(("+6581000002", "81000002"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    delete(
        db.acquire().await.unwrap().conn(),
        ws,
        &Selection::Ids(vec![newest]),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let next = create(
        &db,
        ws,
        &person("Cy", "", Some(("+6581000003", "81000003"))),
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    assert!(next > newest && newest > first, "{first} {newest} {next}");

    let group = |name: &str| GroupInput {
        name: name.into(),
        ..Default::default()
    };
    groups::create(&db, ws, &group("Kept")).await.unwrap();
    let gone = groups::create(&db, ws, &group("Gone")).await.unwrap();
    groups::delete(
        db.acquire().await.unwrap().conn(),
        ws,
        gone,
        crate::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let new = groups::create(&db, ws, &group("New")).await.unwrap();
    assert!(new > gone, "{gone} came back as {new}");
}

async fn exact_counts_take_turns(db: Db) {
    let ws = workspace(&db).await;
    let all = ContactFilter::default();
    let limit = std::time::Duration::from_millis(200);
    let busy = tokio::sync::Semaphore::new(0);
    match filter::count_in_turn(&db, ws, &all, limit, &busy).await {
        Err(AppError::Unavailable(message)) => {
            assert!(message.contains("Other counts of every match"), "{message}")
        }
        other => panic!("counted without a turn: {other:?}"),
    }
    let free = tokio::sync::Semaphore::new(1);
    let counted = filter::count_in_turn(&db, ws, &all, limit, &free).await;
    assert_eq!(counted.unwrap(), Total::exact(0));
    // A turn that comes within the limit counts with what is left of it.
    let later = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let giver = later.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        giver.add_permits(1);
    });
    let counted = filter::count_in_turn(&db, ws, &all, limit, &later).await;
    assert_eq!(counted.unwrap(), Total::exact(0));
}
