#include "ui/jobs/job_runner.h"


namespace vitscope::ui {

JobRunner::JobRunner(int threads, QObject* parent) : QObject(parent) { pool_.setMaxThreadCount(threads); }

JobRunner::~JobRunner() { shutdown(); }

void JobRunner::shutdown() {
  cancelAll();
  pool_.waitForDone();
}

std::shared_ptr<JobRunner::Job> JobRunner::startJob(const QString& label) {
  auto job = std::make_shared<Job>();
  job->label = label;
  jobs_.push_back(job);
  emit activityChanged();
  return job;
}

void JobRunner::finishJob(const std::shared_ptr<Job>& job) {
  jobs_.remove(job);
  emit activityChanged();
}

void JobRunner::cancel(const Handle& handle) {
  if (auto job = handle.lock()) job->token.cancel();
}

void JobRunner::cancelAll() {
  for (auto& job : jobs_) job->token.cancel();
}

QStringList JobRunner::activeLabels() const {
  QStringList labels;
  for (const auto& job : jobs_) labels << job->label;
  return labels;
}


}  // namespace vitscope::ui
