package casesync.clients;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Records a case submission and a row of the regional system's own in one JDBC transaction, then
 * commits or rolls back: what a Spring or MyBatis service does around casesync_api.record_change.
 *
 * <p>Arguments: case id, "commit" or "rollback"; the JDBC URL comes from CASESYNC_JDBC_URL (it may
 * hold a password, which never belongs in argv). Prints "version event_id" on success; on a
 * refused change prints the SQLSTATE and message on stderr and exits 3.
 */
public final class RecordChange {
    private static final String RECORD =
            "SELECT version, event_id FROM casesync_api.record_change(?, ?, ?, ?::jsonb)";
    private static final String SUBMISSION =
            "{\"item_code\": \"002023002000\", \"handling_mode\": \"FULLY_ONLINE\","
                    + " \"applicant\": {\"kind\": \"PERSON\", \"name\": \"王芳\","
                    + " \"id_number\": \"330483199001011234\"},"
                    + " \"target_regions\": [\"330483\"]}";

    private RecordChange() {}

    public static void main(String[] args) throws SQLException {
        String url = System.getenv("CASESYNC_JDBC_URL");
        if (url == null || args.length != 2 || !(args[1].equals("commit") || args[1].equals("rollback"))) {
            System.err.println("usage: CASESYNC_JDBC_URL=jdbc:postgresql://… RecordChange <case-id> commit|rollback");
            System.exit(2);
        }
        String caseId = args[0];
        boolean commit = args[1].equals("commit");
        try (Connection conn = DriverManager.getConnection(url)) {
            conn.setAutoCommit(false);
            try {
                // 1. the regional system's own write
                try (PreparedStatement own = conn.prepareStatement(
                        "INSERT INTO regional_notes (case_id, note) VALUES (?, ?)")) {
                    own.setString(1, caseId);
                    own.setString(2, "filed at the counter");
                    own.executeUpdate();
                }
                // 2. the case change, checked and queued for publishing in the same transaction
                try (PreparedStatement record = conn.prepareStatement(RECORD)) {
                    record.setString(1, caseId);
                    record.setString(2, "CASE_SUBMITTED");
                    record.setLong(3, 0);
                    record.setString(4, SUBMISSION);
                    try (ResultSet rs = record.executeQuery()) {
                        rs.next();
                        System.out.println(rs.getLong("version") + " " + rs.getString("event_id"));
                    }
                }
                // 3. both or neither
                if (commit) {
                    conn.commit();
                } else {
                    conn.rollback();
                }
            } catch (SQLException e) {
                conn.rollback();
                System.err.println(e.getSQLState() + " " + e.getMessage());
                System.exit(3);
            }
        }
    }
}
