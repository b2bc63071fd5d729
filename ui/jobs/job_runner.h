#pragma once
// Runs engine work (loading checkpoints, analyses, reconstructions) on worker threads so the UI
// never waits on LibTorch. Each job gets its own CancelToken; results come back on the UI thread
// through a callback, unless the job was cancelled or the object that asked is gone. Callers
// that may be superseded (a newer image, a newer mask) keep a generation counter and drop stale
// results themselves.
#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>
#include <list>
#include <memory>
#include <optional>

#include "core/runtime/explorer.h"

namespace vitscope::ui {

class JobRunner : public QObject {
  Q_OBJECT

  struct Job {
    QString label;
    runtime::CancelToken token;
  };

 public:
  // Lets the caller cancel one job later (e.g. the analyses of an image no longer shown).
  using Handle = std::weak_ptr<Job>;
  static void cancel(const Handle& handle);

  explicit JobRunner(int threads, QObject* parent = nullptr);
  ~JobRunner() override;  // cancels what runs and waits for it

  // work(token) runs on a worker; then, on the UI thread, done(result) — also when it was
  // cancelled but finished anyway — or failed(message), with an empty message when the work
  // stopped because it was cancelled. Neither is called once `context` is destroyed.
  template <class Result>
  Handle run(const QString& label, QObject* context, std::function<Result(const runtime::CancelToken&)> work,
           std::function<void(Result)> done, std::function<void(const QString&)> failed = {});

  void cancelAll();
  // Cancels and waits for the workers; callbacks of unfinished jobs are not delivered. Call it
  // before destroying what the work refers to.
  void shutdown();
  int activeCount() const { return static_cast<int>(jobs_.size()); }
  QStringList activeLabels() const;

 signals:
  void activityChanged();  // a job started or finished

 private:
  std::shared_ptr<Job> startJob(const QString& label);
  void finishJob(const std::shared_ptr<Job>& job);

  QThreadPool pool_;
  std::list<std::shared_ptr<Job>> jobs_;
};

template <class Result>
JobRunner::Handle JobRunner::run(const QString& label, QObject* context, std::function<Result(const runtime::CancelToken&)> work,
                    std::function<void(Result)> done, std::function<void(const QString&)> failed) {
  struct Outcome {
    std::optional<Result> value;
    QString error;
  };
  auto job = startJob(label);
  auto outcome = std::make_shared<Outcome>();
  auto future = QtConcurrent::run(&pool_, [work = std::move(work), job, outcome] {
    // Exceptions stay on this side: QFuture only carries QException subclasses.
    try {
      outcome->value.emplace(work(job->token));
    } catch (const runtime::Cancelled&) {
    } catch (const std::exception& e) {
      outcome->error = QString::fromStdString(e.what());
    }
  });
  auto* watcher = new QFutureWatcher<void>(this);
  QPointer<QObject> guard(context);
  connect(watcher, &QFutureWatcherBase::finished, this,
          [this, watcher, job, outcome, guard, done = std::move(done), failed = std::move(failed)] {
            watcher->deleteLater();
            finishJob(job);
            if (!guard) return;
            if (outcome->value) done(std::move(*outcome->value));
            else if (failed) failed(outcome->error);
          });
  watcher->setFuture(future);
  return job;
}

}  // namespace vitscope::ui
