use wk_store::testing::test_stores;

use crate::T0;

#[tokio::test]
async fn login_attempts_count_and_clear() {
    for t in test_stores().await {
        let b = t.backend();
        for i in 0..3 {
            t.record_login_attempt("Admin", "10.0.0.1", T0 + i)
                .await
                .expect("record");
        }
        t.record_login_attempt("other", "10.0.0.2", T0)
            .await
            .expect("record");
        assert_eq!(
            t.count_login_attempts("admin", T0).await.expect("count"),
            3,
            "{b}: case-insensitive"
        );
        assert_eq!(
            t.count_login_attempts("ADMIN", T0 + 1)
                .await
                .expect("count"),
            2,
            "{b}"
        );
        assert_eq!(t.count_login_attempts("nobody", 0).await.expect("count"), 0);

        // Over-long, attacker-chosen names are cut, not rejected.
        let long = "x".repeat(500);
        t.record_login_attempt(&long, &"1".repeat(300), T0)
            .await
            .expect("long");
        assert_eq!(
            t.count_login_attempts(&long, 0).await.expect("count"),
            1,
            "{b}"
        );

        t.clear_login_attempts("ADMIN").await.expect("clear");
        assert_eq!(
            t.count_login_attempts("admin", 0).await.expect("count"),
            0,
            "{b}"
        );
        assert_eq!(
            t.delete_login_attempts_before(T0 + 1).await.expect("gc"),
            2,
            "{b}"
        );
        assert_eq!(t.count_login_attempts("other", 0).await.expect("count"), 0);
    }
}
