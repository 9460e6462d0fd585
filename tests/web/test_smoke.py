from tests.fixtures import login


def test_login_page_renders_in_chinese_by_default(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert "登录" in resp.get_data(as_text=True) or "Log in" in resp.get_data(as_text=True)


def test_generator_logs_in_and_sees_dashboard(client, generator):
    login(client, generator)
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    assert generator.org.name in resp.get_data(as_text=True)
